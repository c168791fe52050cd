package distro

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"sextant/consensus/cluster"
	"sextant/healthcheck"
	"sextant/naming"
)

// idleClock satisfies healthcheck.Clock for checkers whose sweeps a test
// runs by hand.
type idleClock struct{}

func (idleClock) Now() time.Time { return time.Time{} }
func (idleClock) NewTicker(time.Duration) (<-chan time.Time, func()) {
	return make(chan time.Time), func() {}
}

// checkers builds one beat checker per node of h, writing through the
// node's engine; sweep runs one sweep on every running node at its clock.
type checkers struct {
	h  *harness
	by map[string]*healthcheck.BeatChecker
}

func newCheckers(h *harness) *checkers {
	c := &checkers{h: h, by: map[string]*healthcheck.BeatChecker{}}
	for _, a := range h.addrs {
		nd := h.node(a)
		b, err := healthcheck.NewBeatChecker(healthcheck.DefaultConfig(), nd.cat, nd.eng, idleClock{}, nil, h.log)
		if err != nil {
			h.t.Fatal(err)
		}
		c.by[a] = b
	}
	return c
}

func (c *checkers) sweep() {
	for _, nd := range c.h.running() {
		c.by[nd.addr].Sweep(context.Background(), c.h.clock.Now(nd.addr))
	}
}

// has reports whether nd's catalog holds the ephemeral instance ip:port of k.
func has(nd *node, k naming.ServiceKey, addr string) bool {
	return slices.Contains(ips(nd.cat, k), addr)
}

// A partition longer than the delete timeout: the service's owner is cut
// off with one peer while the client keeps beating through the third node,
// which owns everything on its side. The owner's side expires the
// instance; after the heal the beats seen on the other side must win, and
// the instance is listed on every node.
func TestHealKeepsInstanceThatKeptBeating(t *testing.T) {
	clk := newTestClock()
	h := newClockedHarness(t, 3, TestConfig(), cluster.TestConfig(), clk)
	x, y, z := h.addrs[0], h.addrs[1], h.addrs[2]
	k := keyOwnedBy(t, x, h.addrs, "owned")
	hc := newCheckers(h)
	if err := h.applyRetry(z, registerOp(k, "10.1.0.1", 80), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool {
		return has(h.node(x), k, "10.1.0.1:80") && has(h.node(y), k, "10.1.0.1:80") && has(h.node(z), k, "10.1.0.1:80")
	})
	hc.sweep() // x's checker sees itself responsible from here on

	h.net.Partition([]string{x, y}, []string{z})
	h.waitAgreed([]string{x, y})
	h.waitAgreed([]string{z})
	for range 9 { // 45 s of fake time, a beat through z every 5 s
		clk.Advance(5 * time.Second)
		if err := h.node(z).eng.Apply(context.Background(), beatOp(k, "10.1.0.1", 80)); err != nil {
			t.Fatal(err)
		}
		hc.sweep()
	}
	if has(h.node(x), k, "10.1.0.1:80") {
		t.Fatal("the owner's side did not expire the instance: the scenario is not the one under test")
	}
	if !has(h.node(z), k, "10.1.0.1:80") {
		t.Fatal("the instance left the side its client beats on")
	}

	h.net.Heal()
	h.waitAgreed(h.addrs)
	rounds := h.node(x).eng.Stats().VerifyRounds
	waitFor(t, 10*time.Second, func() bool {
		return h.converged() && h.node(x).eng.Stats().VerifyRounds >= rounds+3
	})
	for _, nd := range h.running() {
		if !has(nd, k, "10.1.0.1:80") {
			t.Errorf("%s lost the instance its client kept beating: %v", nd.addr, ips(nd.cat, k))
		}
	}
}

// Cutting only the link between B and C: A still reaches both, so every
// node keeps {A,B,C} as its view, each service keeps one judging node, and
// writes through A go through without refusals.
func TestPartialPartitionKeepsOneOwner(t *testing.T) {
	h := newHarness(t, 3, TestConfig(), cluster.TestConfig())
	a, b, c := h.addrs[0], h.addrs[1], h.addrs[2]
	h.net.Partition([]string{b}, []string{c})
	// Long enough for B and C to count each other's reports as failed.
	time.Sleep(time.Duration(h.ccfg.DownAfter+2) * h.ccfg.ReportInterval)
	h.waitAgreed(h.addrs)

	keys := make([]string, 30)
	for i := range keys {
		k := svc(fmt.Sprintf("cut-%d", i))
		keys[i] = k.Name
		if err := h.node(a).eng.Apply(context.Background(), registerOp(k, "10.2.0.1", 80+i)); err != nil {
			t.Fatalf("write %d through %s: %v", i, a, err)
		}
	}
	for range 20 { // sample who judges each service while the link stays cut
		for _, name := range keys {
			judges := 0
			for _, nd := range h.running() {
				if nd.eng.Owns(svc(name)) {
					judges++
				}
			}
			if judges > 1 {
				t.Fatalf("%d nodes judge %s at once", judges, name)
			}
		}
		time.Sleep(h.ccfg.ReportInterval / 2)
	}
}

// A node cut off alone is a minority: its view shrinks to itself (it
// still takes writes), but it judges nothing, while the majority side does.
func TestMinorityJudgesNothing(t *testing.T) {
	h := newHarness(t, 3, TestConfig(), cluster.TestConfig())
	a, b, c := h.addrs[0], h.addrs[1], h.addrs[2]
	h.net.Partition([]string{a, b}, []string{c})
	h.waitAgreed([]string{a, b})
	waitFor(t, 5*time.Second, func() bool { return slices.Equal(h.node(c).mem.Live(), []string{c}) })
	for i := range 50 {
		k := svc(fmt.Sprintf("minority-%d", i))
		if h.node(c).eng.Owns(k) {
			t.Fatalf("%s, cut off alone, judges %s", c, k)
		}
		if !h.node(a).eng.Owns(k) && !h.node(b).eng.Owns(k) {
			t.Fatalf("nobody on the majority side judges %s", k)
		}
	}
	if err := h.node(c).eng.Apply(context.Background(), registerOp(svc("minority-0"), "10.3.0.1", 80)); err != nil {
		t.Fatalf("the minority node refused a write: %v", err)
	}
}

// Two nodes: cut apart, neither is a majority and neither judges; when one
// process is gone (its port refuses), the survivor judges alone.
func TestTwoNodesJudgeOnlyWhenThePeerIsGone(t *testing.T) {
	h := newHarness(t, 2, TestConfig(), cluster.TestConfig())
	a, b := h.addrs[0], h.addrs[1]
	k := svc("pair")
	h.net.Isolate(b)
	waitFor(t, 5*time.Second, func() bool { return slices.Equal(h.node(a).mem.Live(), []string{a}) })
	if h.node(a).eng.Owns(k) || h.node(b).eng.Owns(k) {
		t.Fatal("a node cut off from its only peer judges")
	}
	h.net.Heal()
	h.waitAgreed(h.addrs)
	h.stop(b)
	waitFor(t, 5*time.Second, func() bool { return h.node(a).eng.Owns(k) })
}
