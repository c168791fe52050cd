package healthcheck

import (
	"context"
	"strings"
	"testing"
	"time"

	"sextant/naming"
)

// TestProbeTimingWithFakeClock drives the checker with an injected clock:
// a cluster probed every 10 s, unhealthy after 3 failures, healthy after 2
// successes. Only the two flips are written.
func TestProbeTimingWithFakeClock(t *testing.T) {
	cat := naming.NewCatalog()
	w := &catWriter{cat: cat}
	ik := register(t, cat, svc, "10.0.0.1", false, nil, 0)
	setCluster(t, cat, svc, naming.ClusterConfig{Name: naming.DefaultCluster, HealthChecker: naming.HealthChecker{Type: "TCP"},
		UseInstancePortToCheck: true, Check: naming.CheckSettings{IntervalMillis: 10000, UnhealthyThreshold: 3, HealthyThreshold: 2}})
	p := newFakeProber()
	clk := newFakeClock(t0)
	cfg := DefaultProbeConfig()
	c := startChecker(t, cfg, cat, w, p, clk)
	const addr = "10.0.0.1:8080"

	// round advances the clock and waits for the n-th probe to be over.
	elapsed := time.Duration(0)
	round := func(d time.Duration, n int) {
		t.Helper()
		clk.Advance(d)
		elapsed += d
		waitFor(t, 5*time.Second, func() bool { return p.count(addr) == n && settled(c) })
	}
	round(cfg.Tick, 1) // first probe at the first tick
	p.setFail(addr, "connection refused")
	round(10*time.Second, 2)
	round(10*time.Second, 3)
	if !instance(cat, svc, ik).Healthy {
		t.Fatal("unhealthy after 2 of 3 failures")
	}
	round(10*time.Second, 4)
	in := instance(cat, svc, ik)
	if in.Healthy || in.Check.Reason != "connection refused" || in.Check.Time != ms(elapsed) {
		t.Fatalf("after 3 failures: %+v (want unhealthy at %v)", in, elapsed)
	}
	p.setFail(addr, "")
	round(10*time.Second, 5)
	if instance(cat, svc, ik).Healthy {
		t.Fatal("healthy after 1 of 2 successes")
	}
	round(10*time.Second, 6)
	if in := instance(cat, svc, ik); !in.Healthy || in.Check.Reason != "tcp connect ok" {
		t.Fatalf("after 2 successes: %+v", in)
	}

	ops := w.appliedOps()
	if len(ops) != 2 {
		t.Fatalf("%d ops written for 6 probes, want the 2 flips: %+v", len(ops), ops)
	}
	for i, op := range ops {
		if op.Kind != naming.OpSetHealth || op.Ephemeral || op.Check == nil || op.Target != ik || op.Healthy != (i == 1) {
			t.Errorf("op %d: %+v", i, op)
		}
	}
	rep, ok := c.LastCheck(svc, ik)
	if !ok || !rep.OK || rep.Time != ms(elapsed) {
		t.Fatalf("LastCheck = %+v, %v", rep, ok)
	}
	st := c.Stats()
	if st.Targets != 1 || st.Probes != 6 || st.Failures != 3 || st.FlipsUnhealthy != 1 || st.FlipsHealthy != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestOwnershipMoves uses a writer whose Owns flips: a node that loses a
// service stops probing it and writes nothing for a probe in flight; a node
// that gains it probes at once.
func TestOwnershipMoves(t *testing.T) {
	cat := naming.NewCatalog()
	w := &catWriter{cat: cat}
	ik := register(t, cat, svc, "10.0.0.1", false, nil, 0)
	const addr = "10.0.0.1:8080"
	p := newFakeProber()
	hold := make(chan struct{})
	p.block[addr] = hold
	p.setFail(addr, "connection refused")
	clk := newFakeClock(t0)
	c := startChecker(t, DefaultProbeConfig(), cat, w, p, clk)

	clk.Advance(DefaultProbeConfig().Tick)
	waitFor(t, 5*time.Second, func() bool { return p.count(addr) == 1 })
	// Ownership moves away while the probe is in flight.
	w.setOwns(func(naming.ServiceKey) bool { return false })
	close(hold)
	waitFor(t, 5*time.Second, func() bool { return settled(c) })
	if len(w.appliedOps()) != 0 || !instance(cat, svc, ik).Healthy {
		t.Fatal("a node that lost the service wrote a flip")
	}
	clk.Advance(time.Second) // rescan
	waitFor(t, 5*time.Second, func() bool { return c.Stats().Targets == 0 })
	for i := 0; i < 5; i++ {
		clk.Advance(20 * time.Second)
		now := clk.Now()
		waitFor(t, 5*time.Second, func() bool { return rescanned(c, now) })
	}
	if n := p.count(addr); n != 1 {
		t.Fatalf("probed %d times after losing the service", n)
	}

	// Gained again: probed at the next rescan, and the flip is written.
	w.setOwns(func(naming.ServiceKey) bool { return true })
	clk.Advance(time.Second)
	waitFor(t, 5*time.Second, func() bool { return !instance(cat, svc, ik).Healthy })
	if n := p.count(addr); n != 2 {
		t.Fatalf("probes %d", n)
	}
}

// TestCheckerNoneIsNotProbed: a NONE cluster gets no probes, and the health
// an operator sets stays as set; a TCP service beside it is probed.
func TestCheckerNoneIsNotProbed(t *testing.T) {
	cat := naming.NewCatalog()
	w := &catWriter{cat: cat}
	manual := naming.NewServiceKey("", "", "manual")
	mk := register(t, cat, manual, "10.0.0.1", false, nil, 0)
	setCluster(t, cat, manual, naming.ClusterConfig{Name: naming.DefaultCluster, HealthChecker: naming.HealthChecker{Type: "NONE"}})
	register(t, cat, svc, "10.0.0.2", false, nil, 0)
	p := newFakeProber()
	p.setFail("10.0.0.1:8080", "connection refused")
	clk := newFakeClock(t0)
	c := startChecker(t, DefaultProbeConfig(), cat, w, p, clk)

	// The operator marks the instance unhealthy, as PUT /ns/health/instance does.
	if err := w.Apply(context.Background(), naming.Op{Kind: naming.OpSetHealth, Time: ms(0), Service: manual, Target: mk, Healthy: false}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		clk.Advance(20 * time.Second)
		waitFor(t, 5*time.Second, func() bool { return p.count("10.0.0.2:8080") == i && settled(c) })
	}
	if n := p.count("10.0.0.1:8080"); n != 0 {
		t.Fatalf("NONE instance probed %d times", n)
	}
	if instance(cat, manual, mk).Healthy {
		t.Fatal("health set by the operator was overwritten")
	}
	if c.Stats().Targets != 1 {
		t.Fatalf("targets %d", c.Stats().Targets)
	}
}

// TestHealthCheckSwitch: with the healthCheckEnabled switch off nothing is probed.
func TestHealthCheckSwitch(t *testing.T) {
	cat := naming.NewCatalog()
	w := &catWriter{cat: cat}
	register(t, cat, svc, "10.0.0.1", false, nil, 0)
	if err := cat.Apply(naming.Op{Kind: naming.OpSetSwitch, SwitchEntry: "healthCheckEnabled", SwitchValue: "false"}); err != nil {
		t.Fatal(err)
	}
	p := newFakeProber()
	clk := newFakeClock(t0)
	c := startChecker(t, DefaultProbeConfig(), cat, w, p, clk)
	for i := 0; i < 3; i++ {
		clk.Advance(20 * time.Second)
		now := clk.Now()
		waitFor(t, 5*time.Second, func() bool { return rescanned(c, now) })
	}
	if err := cat.Apply(naming.Op{Kind: naming.OpSetSwitch, SwitchEntry: "healthCheckEnabled", SwitchValue: "true"}); err != nil {
		t.Fatal(err)
	}
	if n := p.count("10.0.0.1:8080"); n != 0 {
		t.Fatalf("probed %d times with the switch off", n)
	}
	clk.Advance(DefaultProbeConfig().Tick)
	waitFor(t, 5*time.Second, func() bool { return p.count("10.0.0.1:8080") == 1 && settled(c) })
}

// TestMixedEphemeralAndPersistent runs the beat checker and the persistent
// checker over one service: beats never judge the persistent instance,
// probes never touch the ephemeral one, and only the ephemeral one is ever
// removed.
func TestMixedEphemeralAndPersistent(t *testing.T) {
	cat := naming.NewCatalog()
	w := &catWriter{cat: cat}
	eph := register(t, cat, svc, "10.0.0.1", true, nil, 0)
	per := register(t, cat, svc, "10.0.0.2", false, nil, 0)
	p := newFakeProber()
	p.setFail("10.0.0.2:8080", "connection refused")
	clk := newFakeClock(t0)
	beats, err := NewBeatChecker(DefaultConfig(), cat, w, clk, nil, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := beats.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer beats.Close()
	startChecker(t, DefaultProbeConfig(), cat, w, p, clk)

	clk.Advance(time.Second)
	waitFor(t, 5*time.Second, func() bool { return !instance(cat, svc, per).Healthy })
	if !instance(cat, svc, eph).Healthy {
		t.Fatal("ephemeral instance flipped by a probe")
	}
	// The ephemeral client stops beating; time passes well beyond every beat timeout.
	for at := 2 * time.Second; at <= 60*time.Second; at += time.Second {
		clk.Advance(time.Second)
	}
	waitFor(t, 5*time.Second, func() bool { return instance(cat, svc, eph) == nil })
	if in := instance(cat, svc, per); in == nil || in.Healthy {
		t.Fatalf("persistent instance after 60 s without beats: %+v (want registered, unhealthy)", in)
	}
	if n := p.count("10.0.0.1:8080"); n != 0 {
		t.Fatalf("ephemeral instance probed %d times", n)
	}
	for _, op := range w.appliedOps() {
		if op.Target == per && (op.Ephemeral || op.ExpectBeat != 0 || op.Kind != naming.OpSetHealth) {
			t.Errorf("op on the persistent instance: %+v", op)
		}
		if op.Target == eph && !op.Ephemeral {
			t.Errorf("probe op on the ephemeral instance: %+v", op)
		}
	}
	if strings.Contains(instance(cat, svc, per).Check.Reason, "beat") {
		t.Fatalf("persistent instance judged by beats: %+v", instance(cat, svc, per).Check)
	}
}

func TestCheckerLifecycle(t *testing.T) {
	cat := naming.NewCatalog()
	w := &catWriter{cat: cat}
	if _, err := NewPersistentChecker(ProbeConfig{}, cat, w, nil, RealClock(), nil); err == nil {
		t.Fatal("zero config accepted")
	}
	if _, err := NewPersistentChecker(DefaultProbeConfig(), nil, w, nil, RealClock(), nil); err == nil {
		t.Fatal("nil source accepted")
	}
	c, err := NewPersistentChecker(DefaultProbeConfig(), cat, w, nil, RealClock(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil { // before Start
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err == nil {
		t.Fatal("started after Close")
	}
	c, _ = NewPersistentChecker(DefaultProbeConfig(), cat, w, nil, RealClock(), nil)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err == nil {
		t.Fatal("started twice")
	}
	c.Close()
	c.Close()

	// Disabled: Start succeeds and nothing runs.
	cfg := DefaultProbeConfig()
	cfg.Enabled = false
	register(t, cat, svc, "10.0.0.1", false, nil, 0)
	p := newFakeProber()
	clk := newFakeClock(t0)
	d := startChecker(t, cfg, cat, w, p, clk)
	clk.Advance(time.Minute)
	if p.count("10.0.0.1:8080") != 0 || d.Stats().Targets != 0 {
		t.Fatal("disabled checker probed")
	}
}
