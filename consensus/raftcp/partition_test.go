package raftcp

import (
	"context"
	"errors"
	"testing"
	"time"

	"sextant/naming"
)

func TestLeaderLossNewLeaderServesWrites(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3})
	c.mustApply(regOp(1))
	l := c.leader(5 * time.Second)
	c.converged(5*time.Second, l)
	lost := time.Now()
	c.stop(l)
	if err := c.applyAnywhere(10*time.Second, regOp(2)); err != nil {
		t.Fatalf("no write after leader loss: %v", err)
	}
	t.Logf("first successful write %s after the leader was lost", time.Since(lost).Round(time.Millisecond))
	nl := c.leader(5 * time.Second)
	if nl == l {
		t.Fatal("stopped node still leads")
	}
	c.converged(5*time.Second, nl)
	for _, i := range c.followers(-1) {
		if !hasInstance(c.members[i].cat, 1) || !hasInstance(c.members[i].cat, 2) {
			t.Errorf("node %d lost a committed write", i)
		}
	}
}

func TestMinorityPartition(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3})
	l := c.leader(5 * time.Second)
	old := c.members[l]
	if err := old.node.Apply(context.Background(), regOp(1)); err != nil {
		t.Fatal(err)
	}
	c.converged(5*time.Second, l)
	c.isolate(l)

	// The old leader must fail within ApplyTimeout, never succeed.
	limit := old.cfg.ApplyTimeout
	start := time.Now()
	err := old.node.Apply(context.Background(), regOp(2))
	took := time.Since(start)
	if err == nil {
		t.Fatal("write on the minority side reported success")
	}
	if !errors.Is(err, naming.ErrUnavailable) || errors.Is(err, ErrNotLeader) {
		t.Fatalf("minority write: %v, want an ErrUnavailable error", err)
	}
	if took > limit+250*time.Millisecond {
		t.Errorf("minority write took %s, bound is %s", took, limit)
	}
	t.Logf("minority write failed after %s: %v", took.Round(time.Millisecond), err)
	for name, call := range map[string]func(context.Context) error{
		"barrier": old.node.Barrier, "verify": old.node.VerifyLeader,
	} {
		start := time.Now()
		if err := call(context.Background()); !errors.Is(err, naming.ErrUnavailable) {
			t.Errorf("%s on the minority side: %v", name, err)
		}
		if d := time.Since(start); d > limit+250*time.Millisecond {
			t.Errorf("%s took %s", name, d)
		}
	}

	// The majority elects a leader and commits.
	rest := c.followers(l)
	nl := c.leader(5*time.Second, rest...)
	if err := c.members[nl].node.Apply(context.Background(), regOp(3)); err != nil {
		t.Fatalf("majority write: %v", err)
	}

	c.heal()
	c.leader(5 * time.Second)
	c.converged(5*time.Second, nl)
	for i, m := range c.members {
		if hasInstance(m.cat, 2) {
			t.Errorf("node %d has the write that failed on the minority side", i)
		}
		if !hasInstance(m.cat, 1) || !hasInstance(m.cat, 3) {
			t.Errorf("node %d lacks a committed write", i)
		}
	}
}

func TestLaggingFollowerGetsSnapshot(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3, mutate: func(cfg *Config) {
		cfg.SnapshotThreshold = 8
		cfg.TrailingLogs = 2
		cfg.SnapshotInterval = 20 * time.Millisecond
	}})
	l := c.leader(5 * time.Second)
	lag := c.followers(l)[0]
	c.isolate(lag)
	nl := c.leader(5*time.Second, c.followers(lag)...)
	for i := 0; i < 40; i++ {
		c.mustApply(regOp(i))
	}
	nl = c.leader(5*time.Second, c.followers(lag)...)
	// Wait until the leader compacted past what the lagging node has.
	waitFor(t, 5*time.Second, "a snapshot on the leader", func() bool {
		return c.members[nl].node.Stats().LastSnapshotIndex > c.members[lag].node.Stats().LastLogIndex+2
	})
	c.heal()
	c.converged(5*time.Second, nl)
	// raft records the installed snapshot just after the catalog restore.
	waitFor(t, 5*time.Second, "the lagging node to record an installed snapshot", func() bool {
		return c.members[lag].node.Stats().LastSnapshotIndex > 0
	})
	if s, _ := c.members[lag].cat.Service(testService); s == nil || len(s.Instances) != 40 {
		t.Errorf("lagging node's service: %+v", s)
	}
}

func TestSetPeersAddsAndRemovesVoters(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 4, mutate: func(cfg *Config) {
		cfg.SnapshotThreshold = 8
		cfg.TrailingLogs = 2
		cfg.SnapshotInterval = 20 * time.Millisecond
	}})
	// Members 0-2 are the original cluster; member 3 joins later. Rebuild
	// their configs so the first three bootstrap without it.
	c.closeAll()
	three := []Peer{c.members[0].peer, c.members[1].peer, c.members[2].peer}
	for i := 0; i < 4; i++ {
		c.members[i].cfg.Peers = three
	}
	c.members[3].cfg.Peers = append(append([]Peer{}, three...), c.members[3].peer)
	c.members[3].cfg.Join = true
	for i := 0; i < 3; i++ {
		c.start(i)
	}
	l := c.leader(5*time.Second, 0, 1, 2)
	for i := 0; i < 30; i++ {
		c.mustApply(regOp(i))
	}
	l = c.leader(5*time.Second, 0, 1, 2)
	waitFor(t, 5*time.Second, "a snapshot", func() bool { return c.members[l].node.Stats().LastSnapshotIndex > 0 })
	c.start(3)
	if r := c.members[3].node.Role(); r == "Leader" {
		t.Fatal("joining node elected itself")
	}
	four := c.members[3].cfg.Peers
	setPeers := func(p []Peer) error {
		return c.onLeader(func(n *Node) error { return n.SetPeers(context.Background(), p) })
	}
	voters := func() int {
		var v int
		_ = c.onLeader(func(n *Node) error { v = n.Stats().Voters; return nil })
		return v
	}
	if err := setPeers(four); err != nil {
		t.Fatalf("add voter: %v", err)
	}
	c.converged(5*time.Second, l)
	if v := voters(); v != 4 {
		t.Errorf("voters %d, want 4", v)
	}
	// Idempotent.
	if err := setPeers(four); err != nil {
		t.Fatalf("same peers again: %v", err)
	}
	// Removing two at once is refused and changes nothing.
	if err := setPeers(four[2:]); !errors.Is(err, naming.ErrInvalid) {
		t.Errorf("removing two voters: %v, want ErrInvalid", err)
	}
	for _, bad := range [][]Peer{nil, {{ID: "x"}}, {four[0], four[0]}} {
		if err := setPeers(bad); !errors.Is(err, naming.ErrInvalid) {
			t.Errorf("peers %v: %v, want ErrInvalid", bad, err)
		}
	}
	if v := voters(); v != 4 {
		t.Errorf("refused change altered voters: %d", v)
	}
	// Removing one member works; the group still commits.
	gone := 0
	if err := setPeers(four[1:]); err != nil {
		t.Fatalf("remove one voter: %v", err)
	}
	if v := voters(); v != 3 {
		t.Errorf("voters %d, want 3", v)
	}
	c.stop(gone)
	c.mustApply(regOp(100))
	waitFor(t, 5*time.Second, "new member to apply", func() bool { return hasInstance(c.members[3].cat, 100) })
}

func TestMajorityCheckOnSmallGroups(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 2})
	l := c.leader(5 * time.Second)
	// From two voters, removing one leaves one: not a majority of two.
	err := c.members[l].node.SetPeers(context.Background(), []Peer{c.members[l].peer})
	if !errors.Is(err, naming.ErrInvalid) {
		t.Errorf("shrinking 2 -> 1: %v, want ErrInvalid", err)
	}
}
