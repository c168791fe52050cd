package healthcheck

import (
	"context"
	"strings"
	"testing"
	"time"

	"sextant/naming"
)

func TestDefaultTimings(t *testing.T) {
	f := newFixture(t)
	ik := register(t, f.cat, svc, "10.0.0.1", true, nil, 0)
	f.sweep(0)

	for _, at := range []time.Duration{5 * time.Second, 14900 * time.Millisecond, 15 * time.Second} {
		f.sweep(at)
		if in := instance(f.cat, svc, ik); in == nil || !in.Healthy {
			t.Fatalf("at %v: want healthy, got %+v", at, in)
		}
	}
	f.sweep(15100 * time.Millisecond)
	in := instance(f.cat, svc, ik)
	if in == nil || in.Healthy {
		t.Fatalf("at 15.1s: want unhealthy, got %+v", in)
	}
	if in.Check.Time != ms(15100*time.Millisecond) || !strings.Contains(in.Check.Reason, "no beat for 15.1s") {
		t.Errorf("check result %+v", in.Check)
	}
	for _, at := range []time.Duration{20 * time.Second, 30 * time.Second} {
		f.sweep(at)
		if instance(f.cat, svc, ik) == nil {
			t.Fatalf("at %v: removed too early", at)
		}
	}
	f.sweep(30100 * time.Millisecond)
	if instance(f.cat, svc, ik) != nil {
		t.Fatal("at 30.1s: want removed")
	}
}

func TestDeleteWithoutPassingThroughUnhealthy(t *testing.T) {
	// A sweep that first sees an instance after its delete timeout removes it at once.
	f := newFixture(t)
	ik := register(t, f.cat, svc, "10.0.0.1", true, nil, 0)
	f.sweep(0)
	f.sweep(31 * time.Second)
	if instance(f.cat, svc, ik) != nil {
		t.Fatal("want removed")
	}
	ops := f.w.appliedOps()
	if len(ops) != 1 || ops[0].Kind != naming.OpDeregister || !ops[0].Ephemeral || ops[0].ExpectBeat != ms(0) {
		t.Fatalf("ops %+v", ops)
	}
}

func TestMetadataOverrides(t *testing.T) {
	f := newFixture(t)
	fast := register(t, f.cat, svc, "10.0.0.1", true, map[string]string{
		naming.MetaBeatInterval: "1000", naming.MetaBeatTimeout: "3000", naming.MetaDeleteTimeout: "6000"}, 0)
	def := register(t, f.cat, svc, "10.0.0.2", true, nil, 0)
	bad := register(t, f.cat, svc, "10.0.0.3", true, map[string]string{naming.MetaBeatTimeout: "soon"}, 0)
	f.sweep(0)

	f.sweep(3 * time.Second)
	if !instance(f.cat, svc, fast).Healthy {
		t.Fatal("flipped at exactly 3s")
	}
	f.sweep(3500 * time.Millisecond)
	if in := instance(f.cat, svc, fast); in.Healthy || !strings.Contains(in.Check.Reason, "timeout 3s") {
		t.Fatalf("want unhealthy after 3s, got %+v", in)
	}
	f.sweep(6500 * time.Millisecond)
	if instance(f.cat, svc, fast) != nil {
		t.Fatal("want removed after 6s")
	}
	for _, ik := range []naming.InstanceKey{def, bad} {
		if in := instance(f.cat, svc, ik); in == nil || !in.Healthy {
			t.Fatalf("%v: default timings not kept: %+v", ik, in)
		}
	}
	f.sweep(15500 * time.Millisecond)
	if instance(f.cat, svc, bad).Healthy {
		t.Fatal("an unparsable override should fall back to the 15s default")
	}
}

func TestBeatAfterUnhealthyRestoresHealth(t *testing.T) {
	f := newFixture(t)
	ik := register(t, f.cat, svc, "10.0.0.1", true, nil, 0)
	f.sweep(0)
	f.sweep(16 * time.Second)
	if instance(f.cat, svc, ik).Healthy {
		t.Fatal("want unhealthy")
	}
	beat(t, f.cat, svc, ik, 17*time.Second)
	if !instance(f.cat, svc, ik).Healthy {
		t.Fatal("beat did not restore health")
	}
	// The new beat restarts the timers.
	f.sweep(31 * time.Second)
	if in := instance(f.cat, svc, ik); in == nil || !in.Healthy {
		t.Fatalf("at 31s (14s after the beat): %+v", in)
	}
	f.sweep(32100 * time.Millisecond)
	if in := instance(f.cat, svc, ik); in == nil || in.Healthy {
		t.Fatalf("at 32.1s (15.1s after the beat): %+v", in)
	}
}

func TestBeatRacingTheSweepWins(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   time.Duration
		kind naming.OpKind
	}{
		{"unhealthy", 16 * time.Second, naming.OpSetHealth},
		{"delete", 31 * time.Second, naming.OpDeregister},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ik := register(t, f.cat, svc, "10.0.0.1", true, nil, 0)
			f.sweep(0)
			// The beat lands after the sweep decided, before its op is applied.
			f.w.before = func(op naming.Op) {
				if op.Kind != tc.kind {
					t.Errorf("op %v, want %v", op.Kind, tc.kind)
				}
				beat(t, f.cat, svc, ik, tc.at)
			}
			f.sweep(tc.at)
			if len(f.w.appliedOps()) != 1 {
				t.Fatalf("ops %+v", f.w.appliedOps())
			}
			if in := instance(f.cat, svc, ik); in == nil || !in.Healthy {
				t.Fatalf("beat lost the race: %+v", in)
			}
		})
	}
}

func TestPersistentInstancesAreNeverExpired(t *testing.T) {
	f := newFixture(t)
	ik := register(t, f.cat, svc, "10.0.0.1", false, nil, 0)
	f.sweep(0)
	f.sweep(time.Hour)
	if in := instance(f.cat, svc, ik); in == nil || !in.Healthy {
		t.Fatalf("persistent instance changed: %+v", in)
	}
	if ops := f.w.appliedOps(); len(ops) != 0 {
		t.Fatalf("ops %+v", ops)
	}
}

func TestNotOwnedIsNotChecked(t *testing.T) {
	f := newFixture(t)
	other := naming.NewServiceKey("", "", "payments")
	a := register(t, f.cat, svc, "10.0.0.1", true, nil, 0)
	b := register(t, f.cat, other, "10.0.0.2", true, nil, 0)
	f.w.setOwns(func(k naming.ServiceKey) bool { return k == other })
	f.sweep(0)
	f.sweep(time.Hour)
	if in := instance(f.cat, svc, a); in == nil || !in.Healthy {
		t.Fatalf("instance of a service not owned was touched: %+v", in)
	}
	if instance(f.cat, other, b) != nil {
		t.Fatal("owned service was not checked")
	}
}

func TestSwitchOffChecksNothing(t *testing.T) {
	f := newFixture(t)
	ik := register(t, f.cat, svc, "10.0.0.1", true, nil, 0)
	setSwitch(t, f.cat, "healthCheckEnabled", "false")
	f.sweep(0)
	f.sweep(time.Hour)
	if in := instance(f.cat, svc, ik); in == nil || !in.Healthy {
		t.Fatalf("switch off, yet instance changed: %+v", in)
	}
	if ops := f.w.appliedOps(); len(ops) != 0 {
		t.Fatalf("ops %+v", ops)
	}
	// Turned back on, the real last beat counts: ownership did not change.
	setSwitch(t, f.cat, "healthCheckEnabled", "true")
	f.sweep(time.Hour + time.Second)
	if instance(f.cat, svc, ik) != nil {
		t.Fatal("switch on again: want removed")
	}
}

func setSwitch(t *testing.T, cat *naming.Catalog, entry, value string) {
	t.Helper()
	if err := cat.Apply(naming.Op{Kind: naming.OpSetSwitch, Time: ms(0), SwitchEntry: entry, SwitchValue: value}); err != nil {
		t.Fatal(err)
	}
}

func TestOwnershipGainedGivesGrace(t *testing.T) {
	f := newFixture(t)
	ik := register(t, f.cat, svc, "10.0.0.1", true, nil, 0)
	owned := false
	f.w.setOwns(func(naming.ServiceKey) bool { return owned })
	f.sweep(0)
	f.sweep(10 * time.Second)

	// Beats went to the old owner; this node's copy still says 0.
	owned = true
	f.sweep(20 * time.Second)
	if in := instance(f.cat, svc, ik); !in.Healthy {
		t.Fatal("judged on a stale beat right after gaining ownership")
	}
	f.sweep(35 * time.Second)
	if in := instance(f.cat, svc, ik); !in.Healthy {
		t.Fatal("flipped before one timeout after gaining ownership")
	}
	f.sweep(35100 * time.Millisecond)
	in := instance(f.cat, svc, ik)
	if in == nil || in.Healthy {
		t.Fatalf("want unhealthy 15.1s after gaining ownership: %+v", in)
	}
	// ExpectBeat is the real last beat, so the op still guards against a beat.
	if ops := f.w.appliedOps(); len(ops) != 1 || ops[0].ExpectBeat != ms(0) {
		t.Fatalf("ops %+v", ops)
	}
	f.sweep(50 * time.Second)
	if instance(f.cat, svc, ik) == nil {
		t.Fatal("removed before the delete timeout after gaining ownership")
	}
	f.sweep(50100 * time.Millisecond)
	if instance(f.cat, svc, ik) != nil {
		t.Fatal("want removed 30.1s after gaining ownership")
	}
}

func TestOwnershipLostAndRegainedRestartsGrace(t *testing.T) {
	f := newFixture(t)
	ik := register(t, f.cat, svc, "10.0.0.1", true, nil, 0)
	owned := true
	f.w.setOwns(func(naming.ServiceKey) bool { return owned })
	f.sweep(0)
	owned = false
	f.sweep(10 * time.Second)
	owned = true
	f.sweep(40 * time.Second)
	f.sweep(54 * time.Second)
	if in := instance(f.cat, svc, ik); in == nil || !in.Healthy {
		t.Fatalf("grace not restarted when ownership came back: %+v", in)
	}
	f.sweep(55100 * time.Millisecond)
	if in := instance(f.cat, svc, ik); in == nil || in.Healthy {
		t.Fatalf("want unhealthy 15.1s after regaining: %+v", in)
	}
}

func TestLoopFlipsWithinOneSecondOfDue(t *testing.T) {
	cat := naming.NewCatalog()
	src := &countingSource{Catalog: cat}
	w := &catWriter{cat: cat}
	clk := newFakeClock(t0)
	b, err := NewBeatChecker(DefaultConfig(), src, w, clk, nil, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	ik := register(t, cat, svc, "10.0.0.1", true, nil, 0)
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Start(context.Background()); err == nil {
		t.Error("second Start accepted")
	}

	// Step the clock a second at a time and wait for each sweep to finish.
	// Due at 15s (unhealthy) and 30s (removed); each must land on the next tick.
	for sec := 1; sec <= 31; sec++ {
		before := src.lists.Load()
		clk.Advance(time.Second)
		waitFor(t, 5*time.Second, func() bool { return src.lists.Load() > before })
		// The sweep lists services before applying; wait for the writes too.
		waitFor(t, 5*time.Second, func() bool { return b.mu.TryLock() })
		b.mu.Unlock()
		in := instance(cat, svc, ik)
		switch {
		case sec <= 15 && (in == nil || !in.Healthy):
			t.Fatalf("at %ds: flipped early: %+v", sec, in)
		case sec >= 16 && sec <= 30 && (in == nil || in.Healthy):
			t.Fatalf("at %ds: want unhealthy, got %+v", sec, in)
		case sec == 31 && in != nil:
			t.Fatalf("at %ds: want removed", sec)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := b.Start(context.Background()); err == nil {
		t.Error("Start after Close accepted")
	}
}

func TestLoopStopsWithContext(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	if err := f.b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	waitFor(t, 5*time.Second, func() bool {
		select {
		case <-f.b.done:
			return true
		default:
			return false
		}
	})
	if err := f.b.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDisabledCheckerDoesNothing(t *testing.T) {
	cat := naming.NewCatalog()
	w := &catWriter{cat: cat}
	cfg := DefaultConfig()
	cfg.Enabled = false
	b, err := NewBeatChecker(cfg, cat, w, newFakeClock(t0), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ik := register(t, cat, svc, "10.0.0.1", true, nil, 0)
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.Sweep(context.Background(), t0)
	b.Sweep(context.Background(), t0.Add(time.Hour))
	if in := instance(cat, svc, ik); in == nil || !in.Healthy {
		t.Fatalf("disabled checker changed an instance: %+v", in)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{0, -time.Second, time.Millisecond, 2 * time.Minute} {
		c := DefaultConfig()
		c.SweepInterval = d
		if c.Validate() == nil {
			t.Errorf("interval %v accepted", d)
		}
		if _, err := NewBeatChecker(c, naming.NewCatalog(), &catWriter{}, RealClock(), nil, nil); err == nil {
			t.Errorf("NewBeatChecker accepted interval %v", d)
		}
	}
	if _, err := NewBeatChecker(DefaultConfig(), nil, &catWriter{}, RealClock(), nil, nil); err == nil {
		t.Error("nil source accepted")
	}
	if _, err := NewBeatChecker(DefaultConfig(), naming.NewCatalog(), nil, RealClock(), nil, nil); err == nil {
		t.Error("nil writer accepted")
	}
	if _, err := NewBeatChecker(DefaultConfig(), naming.NewCatalog(), &catWriter{}, nil, nil, nil); err == nil {
		t.Error("nil clock accepted")
	}
}

func TestRealClockTicks(t *testing.T) {
	c, stop := RealClock().NewTicker(time.Millisecond)
	defer stop()
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatal("real ticker did not tick")
	}
	if d := time.Since(RealClock().Now()); d < 0 || d > time.Minute {
		t.Fatalf("real clock off by %v", d)
	}
}
