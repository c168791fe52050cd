package distro

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/consensus/cluster"
	"sextant/naming"
)

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testLog sends warnings and errors to the test log.
func testLog(t testing.TB) *logrus.Entry {
	l := logrus.New()
	l.SetLevel(logrus.WarnLevel)
	l.SetOutput(&tWriter{t: t})
	return logrus.NewEntry(l)
}

type tWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *tWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func quietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

func svc(name string) naming.ServiceKey { return naming.NewServiceKey("", "", name) }

func inst(ip string, port int, updated int64) *naming.Instance {
	return &naming.Instance{IP: ip, Port: port, Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: true, Updated: updated}
}

func registerOp(k naming.ServiceKey, ip string, port int) naming.Op {
	return naming.Op{Kind: naming.OpRegister, Service: k, Instance: inst(ip, port, 0)}
}

func deregisterOp(k naming.ServiceKey, ip string, port int) naming.Op {
	return naming.Op{Kind: naming.OpDeregister, Service: k, Ephemeral: true,
		Target: naming.InstanceKey{IP: ip, Port: port, Cluster: naming.DefaultCluster}}
}

// beatOp is a full beat: it re-creates the instance when it is missing.
func beatOp(k naming.ServiceKey, ip string, port int) naming.Op {
	return naming.Op{Kind: naming.OpBeat, Service: k, Instance: inst(ip, port, 0),
		Target: naming.InstanceKey{IP: ip, Port: port, Cluster: naming.DefaultCluster}}
}

// fixedView is a member view that never changes.
type fixedView struct {
	self string
	live []string
}

func (v fixedView) Self() string                             { return v.self }
func (v fixedView) Live() []string                           { return slices.Clone(v.live) }
func (v fixedView) Hash() uint64                             { return uint64(len(v.live)) }
func (v fixedView) Watch(func()) (cancel func())             { return func() {} }
func (v fixedView) Agreed() bool                             { return true }
func (v fixedView) PeerLive(string, uint64) ([]string, bool) { return nil, false }

// node is one member of an in-process cluster.
type node struct {
	addr string
	cat  *naming.Catalog
	mem  *cluster.Membership
	eng  *Engine
}

// harness runs an in-process cluster over a memnet Network.
type harness struct {
	t     testing.TB
	net   *Network
	addrs []string
	cfg   Config
	ccfg  cluster.Config
	log   *logrus.Entry

	mu    sync.Mutex
	nodes map[string]*node
	// scale multiplies the harness's waits (production timings are slower).
	scale time.Duration
	// clock, when set, is every engine's clock (per node, so nodes can
	// disagree); nil means the real one.
	clock *testClock
	// tune, when set, changes a node's membership configuration.
	tune func(addr string, c *cluster.Config)
}

// timings returns the configurations of the scenario tests: the test
// presets, or with SEXTANT_DISTRO_TIMINGS=default the production defaults
// (slow; for measuring) and how much longer to wait.
func timings() (Config, cluster.Config, time.Duration) {
	if os.Getenv("SEXTANT_DISTRO_TIMINGS") == "default" {
		return DefaultConfig(), cluster.DefaultConfig(), 10
	}
	return testConfig(), clusterConfig(), 1
}

func newHarness(t testing.TB, n int, cfg Config, ccfg cluster.Config) *harness {
	t.Helper()
	return newClockedHarness(t, n, cfg, ccfg, nil)
}

// newClockedHarness is newHarness with every engine reading clk (nil: the
// real clock).
func newClockedHarness(t testing.TB, n int, cfg Config, ccfg cluster.Config, clk *testClock) *harness {
	t.Helper()
	return newTunedHarness(t, n, cfg, ccfg, clk, nil)
}

// newTunedHarness is newClockedHarness with tune, when not nil, changing
// each node's membership configuration (its clock, say) before it is built.
func newTunedHarness(t testing.TB, n int, cfg Config, ccfg cluster.Config, clk *testClock, tune func(addr string, c *cluster.Config)) *harness {
	t.Helper()
	h := &harness{t: t, net: NewNetwork(1), cfg: cfg, ccfg: ccfg, log: testLog(t), nodes: map[string]*node{}, scale: 1, clock: clk, tune: tune}
	if ccfg.ReportInterval > clusterConfig().ReportInterval {
		h.scale = 10
	}
	for i := range n {
		h.addrs = append(h.addrs, fmt.Sprintf("10.0.0.%d:8848", i+1))
	}
	for _, a := range h.addrs {
		h.build(a)
	}
	for _, a := range h.addrs {
		if err := h.node(a).mem.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range h.addrs {
		h.startEngine(a)
	}
	h.waitAgreed(h.addrs)
	t.Cleanup(h.close)
	return h
}

// build creates a fresh node at addr (empty catalog) and registers it.
func (h *harness) build(addr string) *node {
	h.t.Helper()
	cc := h.ccfg
	cc.Self, cc.Members = addr, h.addrs
	if h.tune != nil {
		h.tune(addr, &cc)
	}
	m, err := cluster.New(cc, h.net.Reporter(addr), h.log)
	if err != nil {
		h.t.Fatal(err)
	}
	cat := naming.NewCatalog()
	e, err := New(h.cfg, cat, m, h.net.Transport(addr), h.log.WithField("node", addr))
	if err != nil {
		h.t.Fatal(err)
	}
	if h.clock != nil {
		e.now = h.clock.of(addr)
	}
	nd := &node{addr: addr, cat: cat, mem: m, eng: e}
	h.mu.Lock()
	h.nodes[addr] = nd
	h.mu.Unlock()
	h.net.RegisterMember(addr, m)
	h.net.Register(addr, e)
	return nd
}

func (h *harness) startEngine(addr string) {
	h.t.Helper()
	nd := h.node(addr)
	if err := nd.eng.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	if err := nd.eng.Load(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) node(addr string) *node {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nodes[addr]
}

// stop takes a node away as if its process ended.
func (h *harness) stop(addr string) {
	h.net.Unregister(addr)
	nd := h.node(addr)
	nd.eng.Close()
	nd.mem.Close()
	h.mu.Lock()
	delete(h.nodes, addr)
	h.mu.Unlock()
}

// restart brings a stopped node back with an empty catalog.
func (h *harness) restart(addr string) *node {
	h.t.Helper()
	nd := h.build(addr)
	if err := nd.mem.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.startEngine(addr)
	return nd
}

func (h *harness) close() {
	h.mu.Lock()
	nodes := make([]*node, 0, len(h.nodes))
	for _, nd := range h.nodes {
		nodes = append(nodes, nd)
	}
	h.mu.Unlock()
	for _, nd := range nodes {
		nd.eng.Close()
		nd.mem.Close()
	}
	if w, ok := h.log.Logger.Out.(*tWriter); ok {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	}
}

// waitAgreed waits until every node in group sees exactly group as live,
// and, when group is a majority, calls that view agreed.
func (h *harness) waitAgreed(group []string) {
	h.t.Helper()
	want := slices.Clone(group)
	slices.Sort(want)
	majority := 2*len(group) > len(h.addrs)
	waitFor(h.t, h.scale*5*time.Second, func() bool {
		for _, a := range group {
			m := h.node(a).mem
			if !slices.Equal(m.Live(), want) || majority && !m.Agreed() {
				return false
			}
		}
		return true
	})
}

// running returns the nodes currently up, by address.
func (h *harness) running() []*node {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*node, 0, len(h.nodes))
	for _, a := range h.addrs {
		if nd, ok := h.nodes[a]; ok {
			out = append(out, nd)
		}
	}
	return out
}

// ips returns the sorted "ip:port" of a service's ephemeral instances on one node.
func ips(cat *naming.Catalog, k naming.ServiceKey) []string {
	s, ok := cat.Service(k)
	if !ok {
		return nil
	}
	var out []string
	for _, in := range s.Instances {
		if in.Ephemeral {
			out = append(out, in.Key().Addr())
		}
	}
	slices.Sort(out)
	return out
}

// converged reports whether every running node holds the same ephemeral
// data for every service any of them knows.
func (h *harness) converged() bool {
	nodes := h.running()
	keys := map[naming.ServiceKey]bool{}
	for _, nd := range nodes {
		for _, s := range nd.cat.Services("", "") {
			keys[s.Key] = true
		}
	}
	for k := range keys {
		var want string
		for i, nd := range nodes {
			s, _ := nd.cat.Service(k)
			if sum := sumOf(s); i == 0 {
				want = sum
			} else if sum != want {
				return false
			}
		}
	}
	return true
}

// applyRetry applies op through node addr, retrying refusals that say to
// retry (a client's behaviour), until it succeeds or timeout passes.
func (h *harness) applyRetry(addr string, op naming.Op, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := h.node(addr).eng.Apply(context.Background(), op)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testClock is a hand-driven clock shared by the nodes of a harness: every
// node reads the same base time, moved only by Advance, plus its own skew.
type testClock struct {
	mu   sync.Mutex
	base time.Time
	skew map[string]time.Duration
}

func newTestClock() *testClock {
	return &testClock{base: time.UnixMilli(1_700_000_000_000), skew: map[string]time.Duration{}}
}

// Advance moves every node's clock by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.base = c.base.Add(d)
	c.mu.Unlock()
}

// Skew sets how far addr's clock runs ahead (negative: behind).
func (c *testClock) Skew(addr string, d time.Duration) {
	c.mu.Lock()
	c.skew[addr] = d
	c.mu.Unlock()
}

// Now returns addr's current time.
func (c *testClock) Now(addr string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Add(c.skew[addr])
}

func (c *testClock) of(addr string) func() time.Time {
	return func() time.Time { return c.Now(addr) }
}

// soloEngine is an engine, not started, that is the only member of its
// view and owns every service.
func soloEngine(t testing.TB) (*Engine, *naming.Catalog, fixedView) {
	t.Helper()
	v := fixedView{self: "10.0.0.1:8848", live: []string{"10.0.0.1:8848"}}
	cat := naming.NewCatalog()
	e, err := New(testConfig(), cat, v, NewNetwork(1).Transport(v.self), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	return e, cat, v
}

// beatWriter is a node's engine as its beat checker's writer; an empty
// record that is not durable is dropped from the node's catalog, as a
// node's router does.
type beatWriter struct {
	*Engine
	cat *naming.Catalog
}

func (w beatWriter) DropEmpty(k naming.ServiceKey) error { return w.cat.DropEmpty(k) }

// staysGone waits two verify rounds of owner and convergence, then fails
// for every node that lists addr ("ip:port") of k.
func (h *harness) staysGone(owner string, k naming.ServiceKey, addr string) {
	h.t.Helper()
	rounds := h.node(owner).eng.Stats().VerifyRounds
	waitFor(h.t, 5*time.Second, func() bool { return h.node(owner).eng.Stats().VerifyRounds >= rounds+2 && h.converged() })
	for _, nd := range h.running() {
		if has(nd, k, addr) {
			h.t.Errorf("%s lists the deregistered instance again", nd.addr)
		}
	}
}
