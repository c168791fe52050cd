package healthcheck

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"sextant/naming"
)

// TestScheduleIncrementalMatchesFull follows a service through random
// changes (instances of both classes come, change and go over two
// clusters; checkers, intervals and thresholds change) and checks after each
// one that the schedule followed incrementally holds the same targets, with
// the same probes and settings, as a schedule built from the view alone.
func TestScheduleIncrementalMatchesFull(t *testing.T) {
	cfg := DefaultProbeConfig()
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		cat := naming.NewCatalog()
		inc := newSchedule(cfg)
		clusters := []string{naming.DefaultCluster, "b"}
		// Even seeds register mostly ephemeral instances, so the service
		// often holds no persistent one (the schedule skips those views).
		ephemeralIn4 := 1 + 2*int(1-seed%2)
		for step := 0; step < 300; step++ {
			at := ms(time.Duration(step) * time.Millisecond)
			cl := clusters[rng.IntN(len(clusters))]
			ik := naming.InstanceKey{IP: fmt.Sprintf("10.0.0.%d", rng.IntN(12)), Port: 8000 + rng.IntN(2), Cluster: cl}
			var op naming.Op
			switch k := rng.IntN(10); {
			case k < 5:
				op = naming.Op{Kind: naming.OpRegister, Time: at, Service: svc, Instance: &naming.Instance{
					IP: ik.IP, Port: ik.Port, Cluster: cl, Weight: float64(1 + rng.IntN(2)), Healthy: rng.IntN(2) == 0,
					Enabled: true, Ephemeral: rng.IntN(4) < ephemeralIn4}}
			case k < 7:
				op = naming.Op{Kind: naming.OpDeregister, Time: at, Service: svc, Target: ik, Ephemeral: rng.IntN(4) == 0}
			case k < 9:
				types := []string{"TCP", "NONE", "HTTP"}
				cc := naming.ClusterConfig{Name: cl, HealthChecker: naming.HealthChecker{Type: types[rng.IntN(3)], Path: "/h"},
					CheckPort: 7000 + rng.IntN(2), UseInstancePortToCheck: rng.IntN(2) == 0,
					Check: naming.CheckSettings{IntervalMillis: int64(1000 * (1 + rng.IntN(3))), UnhealthyThreshold: 1 + rng.IntN(2)}}
				op = naming.Op{Kind: naming.OpUpdateCluster, Time: at, Service: svc, Cluster: &cc}
			default:
				// Touches the service's view without changing any instance.
				op = naming.Op{Kind: naming.OpUpdateCluster, Time: at, Service: svc,
					Cluster: &naming.ClusterConfig{Name: "unused", HealthChecker: naming.HealthChecker{Type: "TCP"}}}
			}
			_ = cat.Apply(op) // refused ops (unknown instance, class clash) change nothing
			v, _ := cat.Service(svc)
			now := t0.Add(time.Duration(step) * time.Millisecond)
			inc.sync(svc, v, true, now)
			full := newSchedule(cfg)
			full.sync(svc, v, true, now)
			if msg := sameSchedules(inc, full); msg != "" {
				t.Fatalf("seed %d step %d (op %s): %s", seed, step, op.Kind, msg)
			}
		}
	}
}

// sameSchedules compares the targets of two schedules (not their due times
// or streaks, which depend on history).
func sameSchedules(a, b *schedule) string {
	if a.size() != b.size() || a.queue.Len() != b.queue.Len() {
		return fmt.Sprintf("%d targets (%d queued), want %d (%d queued)", a.size(), a.queue.Len(), b.size(), b.queue.Len())
	}
	for key, sb := range b.services {
		for ik, tb := range sb.targets {
			ta := a.lookup(key, ik)
			switch {
			case ta == nil:
				return fmt.Sprintf("target %v missing", ik)
			case ta.removed || !ta.Queued():
				return fmt.Sprintf("target %v not queued", ik)
			case !sameTarget(ta.probe, tb.probe):
				return fmt.Sprintf("target %v probes %+v, want %+v", ik, ta.probe, tb.probe)
			case ta.interval != tb.interval || ta.unhealthyThreshold != tb.unhealthyThreshold || ta.healthyThreshold != tb.healthyThreshold:
				return fmt.Sprintf("target %v settings differ", ik)
			}
		}
	}
	return ""
}

// BenchmarkScheduleSyncLargeService measures following one registration
// into a service of 1,500 instances: persistent ones, probed (the work a
// write to a large service costs the node that probes it), and ephemeral
// ones (what every ephemeral registration costs the probe schedule).
func BenchmarkScheduleSyncLargeService(b *testing.B) {
	b.Run("persistent", func(b *testing.B) { benchScheduleSync(b, false) })
	b.Run("ephemeral", func(b *testing.B) { benchScheduleSync(b, true) })
}

func benchScheduleSync(b *testing.B, ephemeral bool) {
	cat := naming.NewCatalog()
	add := func(i int) {
		in := &naming.Instance{IP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), Port: 8080,
			Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: ephemeral}
		if err := cat.Apply(naming.Op{Kind: naming.OpRegister, Time: ms(0), Service: svc, Instance: in}); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 1500; i++ {
		add(i)
	}
	s := newSchedule(DefaultProbeConfig())
	s.sync(svc, view(cat, svc), true, t0)
	views := make([]*naming.Service, 0, 4096)
	for i := 0; i < cap(views); i++ {
		add(1500 + i)
		views = append(views, view(cat, svc))
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if i == len(views) {
			b.StopTimer()
			s = newSchedule(DefaultProbeConfig())
			s.sync(svc, views[0], true, t0)
			i = 1
			b.StartTimer()
		}
		s.sync(svc, views[i], true, t0)
		i++
	}
}

// TestCountDue checks the count of due targets that decides how many idle
// workers a tick wakes, against a count over every target.
func TestCountDue(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 200; round++ {
		s := newSchedule(DefaultProbeConfig())
		n := rng.IntN(300)
		var all []*target
		for i := 0; i < n; i++ {
			tg := &target{}
			tg.Due = t0.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
			s.queue.Push(tg)
			all = append(all, tg)
		}
		now := t0.Add(time.Duration(rng.IntN(1100)) * time.Millisecond)
		want := 0
		for _, tg := range all {
			if !tg.Due.After(now) {
				want++
			}
		}
		limit := 1 + rng.IntN(400)
		if got := s.countDue(now, limit); got != min(want, limit) {
			t.Fatalf("round %d: %d due, limit %d: counted %d", round, want, limit, got)
		}
	}
}
