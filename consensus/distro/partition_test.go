package distro

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

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
		b, err := healthcheck.NewBeatChecker(healthcheck.DefaultConfig(), nd.cat, beatWriter{nd.eng, nd.cat}, idleClock{}, nil, h.log)
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
	h := newClockedHarness(t, 3, testConfig(), clusterConfig(), clk)
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
	h := newHarness(t, 3, testConfig(), clusterConfig())
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
	h := newHarness(t, 3, testConfig(), clusterConfig())
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
	h := newHarness(t, 2, testConfig(), clusterConfig())
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

// judgingCheckers is newCheckers with self-preservation driven by each
// node's membership, as a node runs it.
func judgingCheckers(h *harness) *checkers {
	c := &checkers{h: h, by: map[string]*healthcheck.BeatChecker{}}
	for _, a := range h.addrs {
		nd := h.node(a)
		b, err := healthcheck.NewBeatChecker(healthcheck.DefaultConfig(), nd.cat, beatWriter{nd.eng, nd.cat}, idleClock{}, nd.mem, h.log)
		if err != nil {
			h.t.Fatal(err)
		}
		c.by[a] = b
	}
	return c
}

// beating is one client instance beating through one node.
type beating struct {
	k    naming.ServiceKey
	ip   string
	via  string
	addr string // ip:80
}

// healthyEverywhere counts the clients listed and healthy on every running
// node; missing counts those absent from at least one node.
func healthyEverywhere(h *harness, cs []beating) (healthy, missing int) {
	for _, c := range cs {
		ok, gone := true, false
		for _, nd := range h.running() {
			s, _ := nd.cat.Service(c.k)
			var in *naming.Instance
			if s != nil {
				in = s.Lookup(naming.InstanceKey{IP: c.ip, Port: 80, Cluster: naming.DefaultCluster})
			}
			if in == nil {
				gone, ok = true, false
			} else if !in.Healthy {
				ok = false
			}
		}
		if ok {
			healthy++
		}
		if gone {
			missing++
		}
	}
	return healthy, missing
}

// Numbers: a 45 s partition ({A,B} | {C}) with clients beating on both
// sides, each through a node of its side, every 5 s; real beat checkers
// (self-preservation on, majority rule) swept every 5 s of injected time.
// Logs the clients lost and flipped, and the convergence time after the
// heal (testConfig timings: verify every 200 ms; SEXTANT_DISTRO_TIMINGS=
// default for the production ones).
//
//	go test -count=1 -run TestNumbersPartition45s -v ./consensus/distro/
func TestNumbersPartition45s(t *testing.T) {
	clk := newTestClock()
	cfg, ccfg, _ := timings()
	h := newClockedHarness(t, 3, cfg, ccfg, clk)
	hc := judgingCheckers(h)
	var cs []beating
	for i := range 60 {
		via := h.addrs[i%3]
		c := beating{k: svc(fmt.Sprintf("part-%d", i%20)), ip: fmt.Sprintf("10.20.%d.%d", i/200, i%200+1), via: via}
		c.addr = c.ip + ":80"
		if err := h.applyRetry(via, registerOp(c.k, c.ip, 80), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	waitFor(t, h.scale*10*time.Second, func() bool { _, miss := healthyEverywhere(h, cs); return miss == 0 && h.converged() })
	hc.sweep()
	beatAll := func() {
		for _, c := range cs {
			op := beatOp(c.k, c.ip, 80)
			op.Time = clk.Now(c.via).UnixMilli()
			if err := h.node(c.via).eng.Apply(context.Background(), op); err != nil {
				// a client that gets an error retries through another node of its side
				other := h.addrs[0]
				if c.via == other {
					other = h.addrs[1]
				}
				if c.via == h.addrs[2] || h.node(other).eng.Apply(context.Background(), op) != nil {
					t.Logf("beat of %s through %s: %v", c.addr, c.via, err)
				}
			}
		}
	}
	a, b, cNode := h.addrs[0], h.addrs[1], h.addrs[2]
	h.net.Partition([]string{a, b}, []string{cNode})
	h.waitAgreed([]string{a, b})
	waitFor(t, h.scale*5*time.Second, func() bool { return slices.Equal(h.node(cNode).mem.Live(), []string{cNode}) })
	minFlipped := len(cs)
	for range 9 {
		clk.Advance(5 * time.Second)
		beatAll()
		time.Sleep(20 * time.Millisecond) // let notices reach their owners
		hc.sweep()
		healthy, _ := healthyEverywhere(h, cs)
		minFlipped = min(minFlipped, healthy)
	}
	held := uint64(0)
	for _, ch := range hc.by {
		held += ch.Stats().Held
	}
	h.net.Heal()
	start := time.Now()
	h.waitAgreed(h.addrs)
	waitFor(t, h.scale*20*time.Second, func() bool {
		healthy, miss := healthyEverywhere(h, cs)
		return h.converged() && miss == 0 && healthy == len(cs)
	})
	took := time.Since(start)
	beatAll()
	hc.sweep()
	healthy, missing := healthyEverywhere(h, cs)
	t.Logf("45 s partition {A,B}|{C}, %d clients beating on both sides: lost %d of %d, healthy on every node after the heal %d of %d; "+
		"during the partition at least %d were healthy on every node; removals held by self-preservation: %d; converged %v after the heal",
		len(cs), missing, len(cs), healthy, len(cs), minFlipped, held, took.Round(time.Millisecond))
	if missing != 0 || healthy != len(cs) {
		for _, c := range cs {
			for _, nd := range h.running() {
				if !has(nd, c.k, c.ip+":80") {
					t.Logf("%s of %s (beating via %s, owner %s) missing on %s", c.ip, c.k.Name, c.via, Owner(c.k, h.addrs), nd.addr)
				}
			}
		}
		t.Fatalf("lost %d, healthy %d of %d", missing, healthy, len(cs))
	}
}

// Numbers: 60 s of clock skew: one node 60 s behind, one 60 s ahead, 30
// clients beating every 5 s through all three nodes for 2 minutes of
// injected time, real beat checkers swept every 5 s. Logs the false flips.
//
//	go test -count=1 -run TestNumbersSkew60s -v ./consensus/distro/
func TestNumbersSkew60s(t *testing.T) {
	clk := newTestClock()
	h := newClockedHarness(t, 3, testConfig(), clusterConfig(), clk)
	clk.Skew(h.addrs[1], -time.Minute)
	clk.Skew(h.addrs[2], time.Minute)
	hc := judgingCheckers(h)
	var cs []beating
	for i := range 30 {
		c := beating{k: svc(fmt.Sprintf("skew-%d", i%10)), ip: fmt.Sprintf("10.21.0.%d", i+1), via: h.addrs[i%3]}
		if err := h.applyRetry(c.via, registerOp(c.k, c.ip, 80), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	waitFor(t, 10*time.Second, func() bool { _, miss := healthyEverywhere(h, cs); return miss == 0 && h.converged() })
	hc.sweep()
	var before uint64
	for _, nd := range h.running() {
		before += nd.cat.HealthFlips().ToUnhealthy
	}
	for range 24 {
		clk.Advance(5 * time.Second)
		for _, c := range cs {
			op := beatOp(c.k, c.ip, 80)
			op.Time = clk.Now(c.via).UnixMilli()
			if err := h.node(c.via).eng.Apply(context.Background(), op); err != nil {
				t.Fatalf("beat: %v", err)
			}
		}
		time.Sleep(20 * time.Millisecond)
		hc.sweep()
	}
	var after uint64
	for _, nd := range h.running() {
		after += nd.cat.HealthFlips().ToUnhealthy
	}
	healthy, missing := healthyEverywhere(h, cs)
	t.Logf("±60 s skew, %d clients beating through all nodes for 120 s: %d flips to unhealthy, %d missing, %d healthy everywhere",
		len(cs), after-before, missing, healthy)
	if after != before || missing != 0 {
		t.Fatalf("%d false flips, %d lost", after-before, missing)
	}
}
