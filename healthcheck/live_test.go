package healthcheck

import (
	"context"
	"net"
	"testing"
	"time"

	"sextant/naming"
)

// These tests probe real listeners on 127.0.0.1 with the real clock and
// short intervals.

// flipBound is how long a flip may take: one interval plus one timeout,
// plus the tick and room for a loaded test machine.
func flipBound(cfg ProbeConfig, timeout time.Duration) time.Duration {
	return cfg.Interval + timeout + cfg.Tick + time.Second
}

func TestTCPInstanceFlipsAndComesBack(t *testing.T) {
	cat := naming.NewCatalog()
	w := &catWriter{cat: cat}
	tgt := newTCPTarget(t, "127.0.0.1:0")
	ik := registerAt(t, cat, svc, tgt.addr)
	cfg := fastProbeConfig()
	c := startChecker(t, cfg, cat, w, nil, RealClock())

	waitFor(t, 5*time.Second, func() bool { r, ok := c.LastCheck(svc, ik); return ok && r.OK })
	if !serving(cat, svc, ik) {
		t.Fatal("healthy instance not served")
	}

	tgt.close()
	closed := time.Now()
	waitFor(t, flipBound(cfg, cfg.TCPTimeout), func() bool { return !instance(cat, svc, ik).Healthy })
	t.Logf("unhealthy %v after the listener closed (interval %v, timeout %v)", time.Since(closed), cfg.Interval, cfg.TCPTimeout)
	in := instance(cat, svc, ik)
	if in == nil || in.Check.Reason != "connection refused" || in.Ephemeral {
		t.Fatalf("after close: %+v", in)
	}
	if serving(cat, svc, ik) {
		t.Fatal("unhealthy instance still in DNS / healthyOnly lists")
	}
	if s, _ := cat.Service(svc); len(s.Select(nil, false).Instances) != 1 {
		t.Fatal("unhealthy instance missing from the full list")
	}
	// Stays registered, unhealthy, over several more probes, with no more writes.
	probes := c.Stats().Probes
	waitFor(t, 5*time.Second, func() bool { return c.Stats().Probes >= probes+3 })
	if in := instance(cat, svc, ik); in == nil || in.Healthy {
		t.Fatalf("after more failed probes: %+v", in)
	}
	if n := len(w.appliedOps()); n != 1 {
		t.Fatalf("%d writes, want 1 flip", n)
	}

	tgt.open()
	opened := time.Now()
	waitFor(t, flipBound(cfg, cfg.TCPTimeout), func() bool { return instance(cat, svc, ik).Healthy })
	t.Logf("healthy %v after the listener reopened", time.Since(opened))
	if !serving(cat, svc, ik) {
		t.Fatal("recovered instance not served")
	}
	if n := len(w.appliedOps()); n != 2 {
		t.Fatalf("%d writes, want 2 flips", n)
	}
}

func TestHTTPInstanceFlipsOnStopAnd500(t *testing.T) {
	cat := naming.NewCatalog()
	w := &catWriter{cat: cat}
	h := newHTTPTarget(t, "127.0.0.1:0")
	ik := registerAt(t, cat, svc, h.addr)
	setCluster(t, cat, svc, naming.ClusterConfig{Name: naming.DefaultCluster, UseInstancePortToCheck: true,
		HealthChecker: naming.HealthChecker{Type: "HTTP", Path: "/health", Headers: "X-Check:yes"}})
	cfg := fastProbeConfig()
	c := startChecker(t, cfg, cat, w, nil, RealClock())
	healthy := func() bool { return instance(cat, svc, ik).Healthy }

	waitFor(t, 5*time.Second, func() bool { r, ok := c.LastCheck(svc, ik); return ok && r.OK && r.Reason == "HTTP 200" })
	if h.lastX.Load() != "yes" {
		t.Fatalf("configured header not sent: %v", h.lastX.Load())
	}

	h.stop()
	waitFor(t, flipBound(cfg, cfg.HTTPTimeout), func() bool { return !healthy() })
	if r := instance(cat, svc, ik).Check.Reason; r != "connection refused" {
		t.Fatalf("stopped: reason %q", r)
	}
	if serving(cat, svc, ik) {
		t.Fatal("stopped server still served")
	}

	h.start()
	waitFor(t, flipBound(cfg, cfg.HTTPTimeout), healthy)

	h.status.Store(500)
	waitFor(t, flipBound(cfg, cfg.HTTPTimeout), func() bool { return !healthy() })
	if r := instance(cat, svc, ik).Check.Reason; r != "HTTP 500" {
		t.Fatalf("500: reason %q", r)
	}
	if instance(cat, svc, ik) == nil || serving(cat, svc, ik) {
		t.Fatal("500: want registered and not served")
	}

	h.status.Store(200)
	waitFor(t, flipBound(cfg, cfg.HTTPTimeout), healthy)
	if !serving(cat, svc, ik) {
		t.Fatal("recovered server not served")
	}
	st := c.Stats()
	if st.FlipsUnhealthy != 2 || st.FlipsHealthy != 2 || st.ApplyErrors != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestHungTargetsDoNotStallOthers: three targets that accept and never
// answer, on four workers; a good target keeps its schedule and its flip is
// on time.
func TestHungTargetsDoNotStallOthers(t *testing.T) {
	cat := naming.NewCatalog()
	w := &catWriter{cat: cat}
	cfg := fastProbeConfig()
	cfg.Workers = 4
	hung := naming.NewServiceKey("", "", "hung")
	for i := 0; i < 3; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go holdConns(ln)
		registerAt(t, cat, hung, ln.Addr().String())
	}
	setCluster(t, cat, hung, naming.ClusterConfig{Name: naming.DefaultCluster, UseInstancePortToCheck: true,
		HealthChecker: naming.HealthChecker{Type: "HTTP", Path: "/"}, Check: naming.CheckSettings{TimeoutMillis: 500}})
	tgt := newTCPTarget(t, "127.0.0.1:0")
	ik := registerAt(t, cat, svc, tgt.addr)
	c := startChecker(t, cfg, cat, w, nil, RealClock())

	waitFor(t, 5*time.Second, func() bool {
		s, _ := cat.Service(hung)
		for _, in := range s.Instances {
			if in.Healthy || in.Check.Reason != "timeout after 500ms" {
				return false
			}
		}
		return true
	})
	// While the hung probes run, the good target is probed every interval.
	base := time.Now()
	first, _ := c.LastCheck(svc, ik)
	waitFor(t, 5*time.Second, func() bool { r, _ := c.LastCheck(svc, ik); return r.Time >= first.Time+3*cfg.Interval.Milliseconds() })
	if took := time.Since(base); took > 4*cfg.Interval+time.Second {
		t.Fatalf("three intervals of the good target took %v", took)
	}
	tgt.close()
	closed := time.Now()
	waitFor(t, flipBound(cfg, cfg.TCPTimeout), func() bool { return !instance(cat, svc, ik).Healthy })
	t.Logf("flip %v after close, beside 3 hung targets on 4 workers", time.Since(closed))
}

func holdConns(ln net.Listener) {
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		held = append(held, c)
	}
}

// TestProtectThresholdWithProbes: when probes leave too few healthy
// instances, the selection (lists, pushes, DNS) returns every enabled
// instance and says so.
func TestProtectThresholdWithProbes(t *testing.T) {
	cat := naming.NewCatalog()
	w := &catWriter{cat: cat}
	a, b := newTCPTarget(t, "127.0.0.1:0"), newTCPTarget(t, "127.0.0.1:0")
	ia, ib := registerAt(t, cat, svc, a.addr), registerAt(t, cat, svc, b.addr)
	if err := cat.Apply(naming.Op{Kind: naming.OpUpdateService, Time: time.Now().UnixMilli(), Service: svc,
		Meta: &naming.ServiceMeta{ProtectThreshold: 0.6}}); err != nil {
		t.Fatal(err)
	}
	cfg := fastProbeConfig()
	startChecker(t, cfg, cat, w, nil, RealClock())

	b.close()
	waitFor(t, flipBound(cfg, cfg.TCPTimeout), func() bool { return !instance(cat, svc, ib).Healthy })
	s, _ := cat.Service(svc)
	sel := s.Select(nil, true)
	if !sel.Protected || len(sel.Instances) != 2 || !serving(cat, svc, ib) || !serving(cat, svc, ia) {
		t.Fatalf("1 of 2 healthy with threshold 0.6: %+v", sel)
	}
	// Below the threshold no more: the unhealthy one is left out again.
	if err := cat.Apply(naming.Op{Kind: naming.OpUpdateService, Time: time.Now().UnixMilli(), Service: svc,
		Meta: &naming.ServiceMeta{ProtectThreshold: 0.5}}); err != nil {
		t.Fatal(err)
	}
	if serving(cat, svc, ib) || !serving(cat, svc, ia) {
		t.Fatal("threshold 0.5 with 1 of 2 healthy must not protect")
	}
}

// TestProbesAreCancelledOnClose: Close returns promptly even with probes
// stuck on hung targets.
func TestProbesAreCancelledOnClose(t *testing.T) {
	cat := naming.NewCatalog()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go holdConns(ln)
	ik := registerAt(t, cat, svc, ln.Addr().String())
	setCluster(t, cat, svc, naming.ClusterConfig{Name: naming.DefaultCluster, UseInstancePortToCheck: true,
		HealthChecker: naming.HealthChecker{Type: "HTTP"}, Check: naming.CheckSettings{TimeoutMillis: 60000}})
	c, err := NewPersistentChecker(fastProbeConfig(), cat, &catWriter{cat: cat}, nil, RealClock(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { return !settled(c) }) // a probe is in flight
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a hung probe")
	}
	if !instance(cat, svc, ik).Healthy {
		t.Fatal("a cancelled probe flipped the instance")
	}
}
