package raftcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testLogger sends logs to t.Log while the test runs and drops them after,
// since raft goroutines may still log while shutting down.
func testLogger(t testing.TB) *logrus.Entry {
	w := &tWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) })
	l := logrus.New()
	l.SetOutput(w)
	l.SetLevel(logrus.InfoLevel)
	return logrus.NewEntry(l)
}

type tWriter struct {
	t    testing.TB
	done atomic.Bool
}

func (w *tWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// msgCounter counts log messages, so tests can see which path a node took.
type msgCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (h *msgCounter) Levels() []logrus.Level { return logrus.AllLevels }

func (h *msgCounter) Fire(e *logrus.Entry) error {
	h.mu.Lock()
	h.n[e.Message]++
	h.mu.Unlock()
	return nil
}

func (h *msgCounter) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[msg]
}

// member is one node of a test cluster with what survives its restarts.
type member struct {
	peer  Peer
	dir   string
	cfg   Config
	cat   *naming.Catalog
	node  *Node
	trans *raft.InmemTransport // nil with TCP
	up    bool
}

// cluster is an in-process raft group. With inmem transports it can cut
// and heal links; with disk stores it can restart members.
type cluster struct {
	t       testing.TB
	log     *logrus.Entry
	msgs    *msgCounter
	members []*member
	tcp     bool
	mu      sync.Mutex
	cut     map[[2]int]bool
}

type clusterOpts struct {
	n      int
	disk   bool // bolt stores in a temp dir (else in memory)
	tcp    bool // TCP transport on 127.0.0.1 (else inmem)
	mutate func(*Config)
}

func newCluster(t testing.TB, o clusterOpts) *cluster {
	t.Helper()
	c := &cluster{t: t, log: testLogger(t), msgs: &msgCounter{n: map[string]int{}}, tcp: o.tcp, cut: map[[2]int]bool{}}
	c.log.Logger.AddHook(c.msgs)
	var peers []Peer
	for i := 0; i < o.n; i++ {
		p := Peer{ID: fmt.Sprintf("127.0.0.%d:8848", i+1), RaftAddr: fmt.Sprintf("raft-%d", i)}
		if o.tcp {
			p.RaftAddr = freeAddr(t)
		}
		peers = append(peers, p)
	}
	base := t.TempDir()
	for i, p := range peers {
		cfg := testConfig()
		cfg.Self = p
		cfg.Peers = peers
		if o.disk {
			cfg.DataDir = filepath.Join(base, fmt.Sprintf("n%d", i))
		} else {
			cfg.InMemory = true
		}
		if o.mutate != nil {
			o.mutate(&cfg)
		}
		c.members = append(c.members, &member{peer: p, cfg: cfg})
	}
	for i := range c.members {
		c.start(i)
	}
	t.Cleanup(c.closeAll)
	return c
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start (re)starts member i with a fresh catalog, as a restarted process.
func (c *cluster) start(i int) {
	c.t.Helper()
	m := c.members[i]
	cat := naming.NewCatalog()
	cfg := m.cfg
	var trans *raft.InmemTransport
	if !c.tcp {
		_, trans = raft.NewInmemTransport(raft.ServerAddress(m.peer.RaftAddr))
		cfg.Transport = trans
	}
	n, err := New(cfg, cat, c.log.WithField("node", i))
	if err != nil {
		c.t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	m.node, m.cat, m.trans, m.up = n, cat, trans, true
	c.relinkLocked()
	c.mu.Unlock()
}

// stop closes member i (a crash, as far as the others can tell).
func (c *cluster) stop(i int) {
	c.t.Helper()
	c.mu.Lock()
	m := c.members[i]
	up := m.up
	m.up = false
	c.relinkLocked()
	c.mu.Unlock()
	if !up {
		return
	}
	if err := m.node.Close(); err != nil {
		c.t.Errorf("close node %d: %v", i, err)
	}
}

// get returns member i's node and catalog, safe against a concurrent restart.
func (c *cluster) get(i int) (*Node, *naming.Catalog, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.members[i]
	return m.node, m.cat, m.up
}

func (c *cluster) closeAll() {
	for i := range c.members {
		c.stop(i)
	}
}

// relinkLocked connects every pair of running inmem members that is not
// cut, and disconnects the rest. The caller holds c.mu.
func (c *cluster) relinkLocked() {
	if c.tcp {
		return
	}
	for i, a := range c.members {
		for j, b := range c.members {
			if i == j || !a.up {
				continue
			}
			if b.up && !c.cut[[2]int{i, j}] {
				a.trans.Connect(raft.ServerAddress(b.peer.RaftAddr), b.trans)
			} else {
				a.trans.Disconnect(raft.ServerAddress(b.peer.RaftAddr))
			}
		}
	}
}

// isolate cuts member i off from every other member, both ways.
func (c *cluster) isolate(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for j := range c.members {
		if j != i {
			c.cut[[2]int{i, j}], c.cut[[2]int{j, i}] = true, true
		}
	}
	c.relinkLocked()
}

func (c *cluster) heal() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = map[[2]int]bool{}
	c.relinkLocked()
}

// leader waits until one running member leads and every running member
// reachable from it names it, and returns its index.
func (c *cluster) leader(timeout time.Duration, among ...int) int {
	c.t.Helper()
	if len(among) == 0 {
		for i, m := range c.members {
			if m.up {
				among = append(among, i)
			}
		}
	}
	found := -1
	waitFor(c.t, timeout, "a leader", func() bool {
		found = -1
		for _, i := range among {
			if c.members[i].node.IsLeader() {
				found = i
			}
		}
		if found < 0 {
			return false
		}
		id := c.members[found].peer.ID
		for _, i := range among {
			if c.members[i].node.Leader() != id {
				return false
			}
		}
		return true
	})
	return found
}

func (c *cluster) followers(leader int) []int {
	var out []int
	for i, m := range c.members {
		if i != leader && m.up {
			out = append(out, i)
		}
	}
	return out
}

// applyAnywhere applies op on the current leader, following NotLeader
// answers and retrying unavailable errors (tests use it only for
// idempotent ops), until it succeeds or timeout passes.
func (c *cluster) applyAnywhere(timeout time.Duration, op naming.Op) error {
	deadline := time.Now().Add(timeout)
	err := errors.New("no leader")
	for time.Now().Before(deadline) {
		for i := range c.members {
			n, _, up := c.get(i)
			if !up || !n.IsLeader() {
				continue
			}
			if err = n.Apply(context.Background(), op); err == nil || !errors.Is(err, naming.ErrUnavailable) {
				return err
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

// onLeader runs fn on the current leader, again while it fails with an
// unavailable error (fn must be idempotent), for at most 10 s.
func (c *cluster) onLeader(fn func(*Node) error) error {
	deadline := time.Now().Add(10 * time.Second)
	err := errors.New("no leader")
	for time.Now().Before(deadline) {
		for i := range c.members {
			n, _, up := c.get(i)
			if !up || !n.IsLeader() {
				continue
			}
			if err = fn(n); err == nil || !errors.Is(err, naming.ErrUnavailable) {
				return err
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

// mustApply applies an idempotent op somewhere within 10 s or fails the test.
func (c *cluster) mustApply(op naming.Op) {
	c.t.Helper()
	if err := c.applyAnywhere(10*time.Second, op); err != nil {
		c.t.Fatalf("apply %s: %v", op.Kind, err)
	}
}

// state renders a catalog's persistent half canonically, for comparisons.
func state(cat *naming.Catalog) string {
	st := cat.PersistentState()
	sortState(&st)
	b, _ := json.Marshal(st)
	return string(b)
}

// converged waits until every running member's catalog equals member ref's.
func (c *cluster) converged(timeout time.Duration, ref int) {
	c.t.Helper()
	waitFor(c.t, timeout, "catalogs to converge", func() bool {
		want := state(c.members[ref].cat)
		for _, m := range c.members {
			if m.up && state(m.cat) != want {
				return false
			}
		}
		return true
	})
}

var testService = naming.ServiceKey{Namespace: naming.DefaultNamespace, Group: naming.DefaultGroup, Name: "orders"}

func regOp(i int) naming.Op {
	return naming.Op{Kind: naming.OpRegister, Service: testService, Instance: &naming.Instance{
		IP: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), Port: 8080, Cluster: naming.DefaultCluster,
		Weight: 1, Healthy: true, Enabled: true,
	}}
}

func deregOp(i int) naming.Op {
	in := regOp(i).Instance
	return naming.Op{Kind: naming.OpDeregister, Service: testService, Target: in.Key()}
}

func hasInstance(cat *naming.Catalog, i int) bool {
	s, ok := cat.Service(testService)
	return ok && s.Find(regOp(i).Instance.Key()) != nil
}
