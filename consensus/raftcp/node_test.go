package raftcp

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"sextant/naming"
)

func TestConfigValidate(t *testing.T) {
	peers := []Peer{{ID: "a:8848", RaftAddr: "a:7848"}, {ID: "b:8848", RaftAddr: "b:7848"}}
	good := func() Config {
		c := DefaultConfig()
		c.Self, c.Peers, c.DataDir = peers[0], peers, "/tmp/x"
		return c
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	tc := testConfig()
	tc.Self, tc.Peers, tc.InMemory = peers[0], peers, true
	if err := tc.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	for name, mut := range map[string]func(*Config){
		"no self":           func(c *Config) { c.Self = Peer{} },
		"no peers":          func(c *Config) { c.Peers = nil },
		"self not in peers": func(c *Config) { c.Self = Peer{ID: "c:8848", RaftAddr: "c:7848"} },
		"self addr differs": func(c *Config) { c.Self.RaftAddr = "a:9999" },
		"duplicate id":      func(c *Config) { c.Peers = []Peer{peers[0], {ID: "a:8848", RaftAddr: "z:1"}} },
		"duplicate addr":    func(c *Config) { c.Peers = []Peer{peers[0], {ID: "z:1", RaftAddr: "a:7848"}} },
		"empty peer":        func(c *Config) { c.Peers = append(c.Peers, Peer{}) },
		"no data dir":       func(c *Config) { c.DataDir = "" },
		"lease > heartbeat": func(c *Config) { c.LeaderLeaseTimeout = 2 * c.HeartbeatTimeout },
		"election < hb":     func(c *Config) { c.ElectionTimeout = c.HeartbeatTimeout / 2 },
		"tiny heartbeat":    func(c *Config) { c.HeartbeatTimeout = time.Millisecond },
		"no apply timeout":  func(c *Config) { c.ApplyTimeout = 0 },
		"no batch":          func(c *Config) { c.MaxBatch = 0 },
		"no inflight":       func(c *Config) { c.MaxInflight = 0 },
		"no overlap":        func(c *Config) { c.OverlapBatch = 0 },
		"no threshold":      func(c *Config) { c.SnapshotThreshold = 0 },
		"no retain":         func(c *Config) { c.SnapshotRetain = 0 },
	} {
		c := good()
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := New(c, naming.NewCatalog(), testLogger(t)); err == nil {
			t.Errorf("%s: New accepted", name)
		}
	}
}

func TestElectionAndReplication(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3})
	l := c.leader(5 * time.Second)
	leader := c.members[l]
	for _, f := range c.followers(l) {
		if got := c.members[f].node.Role(); got != "Follower" {
			t.Errorf("node %d role %q, want Follower", f, got)
		}
	}
	if got := leader.node.Role(); got != "Leader" {
		t.Errorf("leader role %q", got)
	}
	if err := leader.node.Apply(context.Background(), regOp(1)); err != nil {
		t.Fatalf("apply on leader: %v", err)
	}
	// The leader's own catalog has it as soon as Apply returns.
	if !hasInstance(leader.cat, 1) {
		t.Fatal("leader catalog lacks the instance after Apply returned")
	}
	for i, m := range c.members {
		waitFor(t, 5*time.Second, "replication", func() bool { return hasInstance(m.cat, 1) })
		st := m.node.Stats()
		if st.Leader != leader.peer.ID || st.Voters != 3 || st.Term == 0 || st.AppliedIndex == 0 {
			t.Errorf("node %d stats %+v", i, st)
		}
	}
	// Stamped time and persistence class survive replication.
	s, _ := c.members[c.followers(l)[0]].cat.Service(testService)
	in := s.Find(regOp(1).Instance.Key())
	if in.Ephemeral || in.Updated == 0 {
		t.Errorf("replicated instance %+v", in)
	}
}

func TestFollowerReturnsNotLeader(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3})
	l := c.leader(5 * time.Second)
	f := c.members[c.followers(l)[0]]
	err := f.node.Apply(context.Background(), regOp(1))
	var nl *NotLeaderError
	if !errors.As(err, &nl) || !errors.Is(err, ErrNotLeader) {
		t.Fatalf("apply on follower: %v, want *NotLeaderError", err)
	}
	if nl.Leader != c.members[l].peer.ID {
		t.Errorf("NotLeaderError names %q, leader is %q", nl.Leader, c.members[l].peer.ID)
	}
	if err := f.node.Barrier(context.Background()); !errors.As(err, &nl) {
		t.Errorf("barrier on follower: %v", err)
	}
	if err := f.node.VerifyLeader(context.Background()); !errors.As(err, &nl) {
		t.Errorf("verify on follower: %v", err)
	}
	if err := f.node.SetPeers(context.Background(), f.cfg.Peers); !errors.As(err, &nl) {
		t.Errorf("set peers on follower: %v", err)
	}
	// Forwarding the same op to the named leader works.
	if err := c.members[l].node.Apply(context.Background(), regOp(1)); err != nil {
		t.Fatal(err)
	}
	if err := c.members[l].node.Barrier(context.Background()); err != nil {
		t.Errorf("barrier on leader: %v", err)
	}
	if err := c.members[l].node.VerifyLeader(context.Background()); err != nil {
		t.Errorf("verify on leader: %v", err)
	}
}

func TestApplyRefusesBadOps(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 1})
	n := c.members[c.leader(5*time.Second)].node
	before := n.Stats().ProposedOps
	eph := regOp(2)
	eph.Instance.Ephemeral = true
	for name, op := range map[string]naming.Op{
		"ephemeral": eph,
		"beat":      {Kind: naming.OpBeat, Service: testService, Target: regOp(3).Instance.Key()},
	} {
		if err := n.Apply(context.Background(), op); !errors.Is(err, naming.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if got := n.Stats().ProposedOps; got != before {
		t.Errorf("refused ops were proposed: %d -> %d", before, got)
	}
	// Validation is the router's (consensus.Router.admit): an invalid op
	// given to the node directly still changes nothing, since the catalog
	// refuses it, and the refusal comes back from the commit.
	bad := regOp(1)
	bad.Instance.IP = "not-an-ip"
	if err := n.Apply(context.Background(), bad); !errors.Is(err, naming.ErrInvalid) {
		t.Errorf("invalid op: %v, want ErrInvalid", err)
	}
	if _, ok := n.cat.Service(testService); ok {
		t.Error("an invalid registration created its service")
	}
	before = n.Stats().ProposedOps
	// An op's own catalog error comes back from the commit.
	upd := naming.Op{Kind: naming.OpUpdateService, Service: testService, Meta: &naming.ServiceMeta{}}
	if err := n.Apply(context.Background(), upd); !errors.Is(err, naming.ErrNotFound) {
		t.Errorf("update of a missing service: %v, want ErrNotFound", err)
	}
	if got := n.Stats().ProposedOps; got != before+1 {
		t.Errorf("proposed ops %d, want %d", got, before+1)
	}
}

// While an entry is in flight, fewer than OverlapBatch waiting ops are held
// back and go out together; once OverlapBatch wait, they go out at once as
// an overlapping entry. Every op is committed once the entries commit.
func TestGroupCommitOverlapThreshold(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3, mutate: func(cfg *Config) {
		// A leader cut off from its followers keeps leading for the lease:
		// make it long enough to observe the batcher while nothing commits.
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 3*time.Second, 3*time.Second, 3*time.Second
		cfg.ApplyTimeout = 10 * time.Second
		cfg.MaxInflight, cfg.OverlapBatch = 2, 8
	}})
	l := c.leader(10 * time.Second)
	n := c.members[l].node
	before := n.Stats()
	c.isolate(l)

	errs := make(chan error, 9)
	apply := func(i int) { go func() { errs <- n.Apply(context.Background(), regOp(i)) }() }
	apply(0)
	waitFor(t, 2*time.Second, "first entry proposed", func() bool { return n.Stats().ProposedEntries == before.ProposedEntries+1 })
	for i := 1; i <= 5; i++ {
		apply(i)
	}
	waitFor(t, 2*time.Second, "5 ops held back", func() bool { return n.batch.held.Load() == 5 })
	if got := n.Stats().ProposedEntries - before.ProposedEntries; got != 1 {
		t.Fatalf("%d entries proposed with 5 ops held back, want 1", got)
	}
	for i := 6; i <= 8; i++ {
		apply(i)
	}
	waitFor(t, 2*time.Second, "overlapping entry proposed", func() bool { return n.Stats().ProposedEntries == before.ProposedEntries+2 })
	if got := n.Stats().ProposedOps - before.ProposedOps; got != 9 {
		t.Fatalf("proposed %d ops, want 9 (1 + an overlapping entry of 8)", got)
	}
	c.heal()
	for i := 0; i < 9; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("apply: %v", err)
		}
	}
	if s, _ := c.members[l].cat.Service(testService); s == nil || len(s.Instances) != 9 {
		t.Fatalf("leader's catalog lacks the 9 instances: %v", s)
	}
}

func TestGroupCommit(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3})
	l := c.leader(5 * time.Second)
	n := c.members[l].node
	before := n.Stats()
	const ops = 200
	var wg sync.WaitGroup
	errs := make(chan error, ops)
	start := make(chan struct{})
	for i := 0; i < ops; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			errs <- n.Apply(context.Background(), regOp(i))
		}(i)
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
	}
	after := n.Stats()
	entries := after.ProposedEntries - before.ProposedEntries
	if got := after.ProposedOps - before.ProposedOps; got != ops {
		t.Errorf("proposed %d ops, want %d", got, ops)
	}
	if entries >= ops {
		t.Errorf("%d ops took %d log entries; group commit should need fewer", ops, entries)
	}
	if grew := after.LastLogIndex - before.LastLogIndex; grew >= ops {
		t.Errorf("log grew by %d entries for %d ops", grew, ops)
	}
	t.Logf("%d concurrent ops in %d log entries", ops, entries)
	c.converged(5*time.Second, l)
	if s, _ := c.members[c.followers(l)[0]].cat.Service(testService); len(s.Instances) != ops {
		t.Errorf("follower has %d instances, want %d", len(s.Instances), ops)
	}
}

func TestPerOpErrorsInOneBatch(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3})
	n := c.members[c.leader(5*time.Second)].node
	other := naming.ServiceKey{Namespace: naming.DefaultNamespace, Group: naming.DefaultGroup, Name: "payments"}
	create := naming.Op{Kind: naming.OpCreateService, Service: other, Meta: &naming.ServiceMeta{ProtectThreshold: 0.5}}
	const callers = 16
	var wg sync.WaitGroup
	results := make([]error, callers)
	others := make([]error, callers)
	start := make(chan struct{})
	for i := 0; i < callers; i++ {
		wg.Add(2)
		go func(i int) {
			defer wg.Done()
			<-start
			results[i] = n.Apply(context.Background(), create)
		}(i)
		go func(i int) {
			defer wg.Done()
			<-start
			others[i] = n.Apply(context.Background(), regOp(i))
		}(i)
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, naming.ErrConflict):
			t.Errorf("create %d: %v, want nil or ErrConflict", i, err)
		}
		if others[i] != nil {
			t.Errorf("register %d in the same batches: %v", i, others[i])
		}
	}
	if ok != 1 {
		t.Errorf("%d creates succeeded, want exactly 1", ok)
	}
}

func TestCloseAndLifecycle(t *testing.T) {
	cfg := testConfig()
	cfg.Self = Peer{ID: "127.0.0.1:8848", RaftAddr: "raft-0"}
	cfg.Peers = []Peer{cfg.Self}
	cfg.InMemory = true
	_, cfg.Transport = raft.NewInmemTransport("raft-0")
	n, err := New(cfg, naming.NewCatalog(), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Apply(context.Background(), regOp(1)); !errors.Is(err, naming.ErrUnavailable) {
		t.Errorf("apply before start: %v", err)
	}
	if n.Role() != "Shutdown" || n.Leader() != "" || n.IsLeader() {
		t.Errorf("before start: role %q leader %q", n.Role(), n.Leader())
	}
	_ = n.Stats()
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err == nil {
		t.Error("second start accepted")
	}
	waitFor(t, 5*time.Second, "single node to lead", n.IsLeader)
	if err := n.Apply(context.Background(), regOp(1)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := n.Close(); err != nil {
			t.Errorf("close %d: %v", i, err)
		}
	}
	start := time.Now()
	if err := n.Apply(context.Background(), regOp(2)); !errors.Is(err, naming.ErrUnavailable) {
		t.Errorf("apply after close: %v", err)
	}
	if time.Since(start) > time.Second/2 {
		t.Errorf("apply after close took %s", time.Since(start))
	}
	if err := n.Barrier(context.Background()); !errors.Is(err, naming.ErrUnavailable) {
		t.Errorf("barrier after close: %v", err)
	}
	if n.Role() != "Shutdown" {
		t.Errorf("role after close %q", n.Role())
	}
	if err := n.Start(context.Background()); err == nil {
		t.Error("start after close accepted")
	}
}

func TestApplyHonoursContext(t *testing.T) {
	// A lease far longer than the caller's deadline: the isolated leader
	// must give up because of the deadline, not because it stepped down
	// first (which a loaded machine could otherwise make happen).
	c := newCluster(t, clusterOpts{n: 3, mutate: func(cfg *Config) {
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 2*time.Second, 2*time.Second, 2*time.Second
	}})
	l := c.leader(5 * time.Second)
	c.isolate(l)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.members[l].node.Apply(ctx, regOp(1))
	if !errors.Is(err, naming.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("apply with short ctx: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("apply ignored ctx for %s", d)
	}
	c.heal()
	done, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	before := c.members[l].node.Stats().ProposedOps
	if err := c.members[l].node.Apply(done, regOp(2)); !errors.Is(err, context.Canceled) || !errors.Is(err, naming.ErrUnavailable) {
		t.Errorf("apply with a canceled ctx: %v", err)
	}
	if c.members[l].node.Stats().ProposedOps != before {
		t.Error("an op with a canceled ctx was proposed")
	}
}

// An op that cannot be encoded fails alone; the others of its entry are
// committed.
func TestUnencodableOpFailsAlone(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3})
	l := c.leader(5 * time.Second)
	n := c.members[l].node
	c.mustApply(regOp(1))
	nan := math.NaN()
	bad := newRequest(naming.Op{Kind: naming.OpUpdateInstance, Time: 1, Service: testService,
		Target: regOp(1).Instance.Key(), Patch: &naming.InstancePatch{Weight: &nan}})
	good := []*request{newRequest(regOp(2)), newRequest(regOp(3))}
	for _, r := range good {
		r.op.Time = 2
	}
	n.batch.inflight.Add(1) // what the run loop does before it proposes
	n.batch.propose([]*request{good[0], bad, good[1]})
	if err := <-bad.done; !errors.Is(err, naming.ErrInvalid) {
		t.Fatalf("unencodable op: %v, want ErrInvalid", err)
	}
	for i, r := range good {
		if err := <-r.done; err != nil {
			t.Fatalf("good op %d of the same entry: %v", i, err)
		}
	}
	c.converged(5*time.Second, l)
	for _, m := range c.members {
		if !hasInstance(m.cat, 2) || !hasInstance(m.cat, 3) {
			t.Fatal("the good ops are not on every member")
		}
	}
}
