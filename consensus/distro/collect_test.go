package distro

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sextant/consensus"
	"sextant/healthcheck"
	"sextant/naming"
)

// noRaft is the CP side of a router in a test that never reaches it (AP
// mode takes no CP op).
type noRaft struct{}

var errNoRaft = errors.New("no raft in this test")

func (noRaft) Apply(context.Context, naming.Op) error             { return errNoRaft }
func (noRaft) IsLeader() bool                                     { return false }
func (noRaft) Leader() string                                     { return "" }
func (noRaft) ForwardCP(context.Context, string, naming.Op) error { return errNoRaft }

// apCluster is a harness whose nodes run in AP server mode, each with the
// router a node writes through and a beat checker over that router, on
// the harness's injected clock.
type apCluster struct {
	*harness
	routers  map[string]*consensus.Router
	checkers map[string]*healthcheck.BeatChecker
	// notified counts, per node, the catalog notifications of each
	// service: what the DNS index and the push follow.
	mu       sync.Mutex
	notified map[string]map[naming.ServiceKey]int
}

func newAPCluster(t *testing.T, grace time.Duration) *apCluster {
	t.Helper()
	clk := newTestClock()
	cfg, ccfg, _ := timings()
	c := &apCluster{
		harness:  newClockedHarness(t, 3, cfg, ccfg, clk),
		routers:  map[string]*consensus.Router{},
		checkers: map[string]*healthcheck.BeatChecker{},
		notified: map[string]map[naming.ServiceKey]int{},
	}
	hcfg := healthcheck.DefaultConfig()
	hcfg.EmptyServiceGrace = grace
	for _, nd := range c.running() {
		if err := nd.cat.Apply(naming.Op{Kind: naming.OpSetSwitch, SwitchEntry: "serverMode", SwitchValue: naming.ModeAP}); err != nil {
			t.Fatal(err)
		}
		r := consensus.NewRouter(consensus.RouterConfig{Now: clk.of(nd.addr)}, nd.cat, nd.eng, noRaft{}, noRaft{}, c.log)
		t.Cleanup(func() { r.Close() })
		b, err := healthcheck.NewBeatChecker(hcfg, nd.cat, r, idleClock{}, nd.mem, c.log.WithField("node", nd.addr))
		if err != nil {
			t.Fatal(err)
		}
		c.routers[nd.addr], c.checkers[nd.addr] = r, b
		addr := nd.addr
		c.notified[addr] = map[naming.ServiceKey]int{}
		t.Cleanup(nd.cat.Watch(func(k naming.ServiceKey) {
			c.mu.Lock()
			c.notified[addr][k]++
			c.mu.Unlock()
		}))
	}
	return c
}

func (c *apCluster) sweepAll() {
	for _, nd := range c.running() {
		c.checkers[nd.addr].Sweep(context.Background(), c.clock.Now(nd.addr))
	}
}

func (c *apCluster) notifications(addr string, k naming.ServiceKey) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.notified[addr][k]
}

// listed reports on which nodes k is in the catalog's list view.
func (c *apCluster) listed(k naming.ServiceKey) []string {
	var on []string
	for _, nd := range c.running() {
		for _, s := range nd.cat.Services(k.Namespace, k.Group) {
			if s.Key == k {
				on = append(on, nd.addr)
			}
		}
	}
	return on
}

// waitInstances waits until every node lists exactly want for k.
func (c *apCluster) waitInstances(k naming.ServiceKey, want ...string) {
	c.t.Helper()
	waitFor(c.t, 5*time.Second, func() bool {
		for _, nd := range c.running() {
			if _, ok := nd.cat.Service(k); !ok || fmt.Sprint(ips(nd.cat, k)) != fmt.Sprint(want) {
				return false
			}
		}
		return true
	})
}

// verifyRounds returns the verify rounds every node has run.
func (c *apCluster) verifyRounds() uint64 {
	var n uint64
	for _, nd := range c.running() {
		n += nd.eng.stats.verifyRounds.Load()
	}
	return n
}

// In AP mode a service whose instances all deregistered leaves every
// node's catalog (list views, and a notification for the DNS index) once
// EmptyServiceGrace has passed, not before; verify does not bring it back
// to a node that dropped it; a registration afterwards creates it again
// everywhere. (Before, AP mode refused the owner's service deletion and
// empty services stayed for ever.)
func TestAPEmptyServiceCollectedOnEveryNode(t *testing.T) {
	c := newAPCluster(t, time.Minute)
	a, b, third := c.addrs[0], c.addrs[1], c.addrs[2]
	k := svc("churned")
	if err := c.routers[a].Apply(context.Background(), registerOp(k, "10.1.0.1", 8080)); err != nil {
		t.Fatal(err)
	}
	c.waitInstances(k, "10.1.0.1:8080")
	c.sweepAll()
	c.clock.Advance(time.Second)
	if err := c.routers[b].Apply(context.Background(), deregisterOp(k, "10.1.0.1", 8080)); err != nil {
		t.Fatal(err)
	}
	c.waitInstances(k)

	c.sweepAll() // first sweep that sees it empty: the grace starts
	for range 59 {
		c.clock.Advance(time.Second)
		c.sweepAll()
	}
	if on := c.listed(k); len(on) != 3 {
		t.Fatalf("collected before its grace passed: listed on %v only", on)
	}

	// One node's grace ends first: the nodes disagree on the empty
	// record, which verify must leave alone.
	c.clock.Advance(time.Second)
	c.checkers[a].Sweep(context.Background(), c.clock.Now(a))
	if _, ok := c.node(a).cat.Service(k); ok {
		t.Fatal("an empty service outlived its grace on the first node")
	}
	rounds := c.verifyRounds()
	waitFor(t, 5*time.Second, func() bool { return c.verifyRounds() >= rounds+6 })
	if on := c.listed(k); fmt.Sprint(on) != fmt.Sprint([]string{b, third}) {
		t.Fatalf("after verify rounds the service is listed on %v, want on the two nodes that did not drop it yet", on)
	}

	c.sweepAll()
	if on := c.listed(k); len(on) != 0 {
		t.Fatalf("an empty service outlived its grace on %v", on)
	}
	for _, nd := range c.running() {
		if c.notifications(nd.addr, k) == 0 {
			t.Fatalf("%s: no notification of the service (the DNS index follows them)", nd.addr)
		}
		if got := c.checkers[nd.addr].Stats().EmptyDropped; got != 1 {
			t.Fatalf("%s: %d services dropped, want 1", nd.addr, got)
		}
	}
	rounds = c.verifyRounds()
	waitFor(t, 5*time.Second, func() bool { return c.verifyRounds() >= rounds+6 })
	if on := c.listed(k); len(on) != 0 {
		t.Fatalf("a dropped service came back on %v", on)
	}

	// A registration after the collection creates it again everywhere.
	c.clock.Advance(time.Second)
	if err := c.routers[third].Apply(context.Background(), registerOp(k, "10.1.0.2", 8080)); err != nil {
		t.Fatal(err)
	}
	c.waitInstances(k, "10.1.0.2:8080")
}

// Registrations racing the collection of their service, through every
// node, are never lost: each ends listed on every node, whichever of the
// registration, its sync and the nodes' drops comes first.
func TestAPEmptyServiceCollectionKeepsRacingRegistrations(t *testing.T) {
	c := newAPCluster(t, time.Second)
	const n = 12
	keys := make([]naming.ServiceKey, n)
	for i := range keys {
		keys[i] = svc(fmt.Sprintf("racing-%d", i))
		r := c.routers[c.addrs[i%3]]
		if err := r.Apply(context.Background(), registerOp(keys[i], "10.2.0.1", 8080)); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keys {
		c.waitInstances(k, "10.2.0.1:8080")
	}
	c.clock.Advance(time.Second)
	for i, k := range keys {
		if err := c.routers[c.addrs[(i+1)%3]].Apply(context.Background(), deregisterOp(k, "10.2.0.1", 8080)); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keys {
		c.waitInstances(k)
	}
	c.sweepAll()
	c.clock.Advance(2 * time.Second) // past the grace: every sweep now drops what it finds empty

	var wg sync.WaitGroup
	var failed atomic.Value
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.routers[c.addrs[(i+2)%3]].Apply(context.Background(), registerOp(k, "10.2.0.2", 8080)); err != nil {
				failed.Store(err)
			}
		}()
	}
	for range 20 {
		c.sweepAll()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		c.sweepAll()
		c.clock.Advance(2 * time.Second)
	}
	for _, k := range keys {
		c.waitInstances(k, "10.2.0.2:8080")
	}
	dropped := uint64(0)
	for _, b := range c.checkers {
		dropped += b.Stats().EmptyDropped
	}
	t.Logf("%d drops of %d services on 3 nodes raced the registrations", dropped, n)
}
