package healthcheck

import (
	"testing"
	"time"

	"sextant/naming"
)

// drain returns the addresses of every target due at now (marking them running).
func drain(s *schedule, now time.Time) []*target {
	var out []*target
	for t := s.next(now); t != nil; t = s.next(now) {
		out = append(out, t)
	}
	return out
}

func addrs(ts []*target) map[string]bool {
	m := map[string]bool{}
	for _, t := range ts {
		m[t.probe.Addr] = true
	}
	return m
}

func setCluster(t *testing.T, cat *naming.Catalog, key naming.ServiceKey, cc naming.ClusterConfig) {
	t.Helper()
	if err := cat.Apply(naming.Op{Kind: naming.OpUpdateCluster, Time: ms(0), Service: key, Cluster: &cc}); err != nil {
		t.Fatal(err)
	}
}

func view(cat *naming.Catalog, key naming.ServiceKey) *naming.Service {
	s, _ := cat.Service(key)
	return s
}

func TestScheduleIntervalPerCluster(t *testing.T) {
	cat := naming.NewCatalog()
	register(t, cat, svc, "10.0.0.1", false, nil, 0) // DEFAULT: node default 20 s
	in := &naming.Instance{IP: "10.0.0.2", Port: 8080, Cluster: "fast", Weight: 1, Healthy: true, Enabled: true}
	if err := cat.Apply(naming.Op{Kind: naming.OpRegister, Time: ms(0), Service: svc, Instance: in}); err != nil {
		t.Fatal(err)
	}
	register(t, cat, svc, "10.0.0.3", true, nil, 0) // ephemeral: never probed
	setCluster(t, cat, svc, naming.ClusterConfig{Name: "fast", HealthChecker: naming.HealthChecker{Type: "TCP"},
		UseInstancePortToCheck: true, Check: naming.CheckSettings{IntervalMillis: 5000}})

	s := newSchedule(DefaultProbeConfig())
	s.sync(svc, view(cat, svc), true, t0)
	if s.size() != 2 {
		t.Fatalf("targets %d, want the 2 persistent instances", s.size())
	}
	// Both are due at once.
	got := drain(s, t0)
	if a := addrs(got); len(got) != 2 || !a["10.0.0.1:8080"] || !a["10.0.0.2:8080"] {
		t.Fatalf("first round %v", a)
	}
	for _, tg := range got {
		s.finish(tg, NextDue(tg.Due, t0, tg.interval))
	}
	// Over 40 s the fast cluster is probed every 5 s, DEFAULT every 20 s.
	count := map[string]int{}
	for at := 100 * time.Millisecond; at <= 40*time.Second; at += 100 * time.Millisecond {
		now := t0.Add(at)
		for _, tg := range drain(s, now) {
			count[tg.probe.Addr]++
			if late := now.Sub(tg.Due); late < 0 || late >= 100*time.Millisecond {
				t.Fatalf("%s started %v after due", tg.probe.Addr, late)
			}
			s.finish(tg, NextDue(tg.Due, now, tg.interval))
		}
	}
	if count["10.0.0.2:8080"] != 8 || count["10.0.0.1:8080"] != 2 {
		t.Fatalf("probes in 40 s: %v", count)
	}
}

func TestScheduleFollowsTheService(t *testing.T) {
	cat := naming.NewCatalog()
	a := register(t, cat, svc, "10.0.0.1", false, nil, 0)
	register(t, cat, svc, "10.0.0.2", false, nil, 0)
	s := newSchedule(DefaultProbeConfig())
	s.sync(svc, view(cat, svc), true, t0)
	running := drain(s, t0)
	if len(running) != 2 {
		t.Fatalf("due %d", len(running))
	}

	// Deregistered while its probe runs: the result has nowhere to go.
	if err := cat.Apply(naming.Op{Kind: naming.OpDeregister, Time: ms(time.Second), Service: svc, Target: a}); err != nil {
		t.Fatal(err)
	}
	s.sync(svc, view(cat, svc), true, t0.Add(time.Second))
	for _, tg := range running {
		s.finish(tg, t0.Add(20*time.Second))
		if tg.ik == a && !tg.removed {
			t.Fatal("removed instance still scheduled")
		}
	}
	if s.size() != 1 || s.lookup(svc, a) != nil || s.queue.Len() != 1 {
		t.Fatalf("after deregister: size %d queue %d", s.size(), s.queue.Len())
	}

	// Checker NONE: nothing to probe.
	setCluster(t, cat, svc, naming.ClusterConfig{Name: naming.DefaultCluster, HealthChecker: naming.HealthChecker{Type: "NONE"}})
	s.sync(svc, view(cat, svc), true, t0.Add(2*time.Second))
	if s.size() != 0 || s.queue.Len() != 0 {
		t.Fatalf("NONE: size %d", s.size())
	}

	// Back to TCP with a shorter interval: due at once (new targets).
	setCluster(t, cat, svc, naming.ClusterConfig{Name: naming.DefaultCluster, HealthChecker: naming.HealthChecker{Type: "TCP"},
		UseInstancePortToCheck: true})
	s.sync(svc, view(cat, svc), true, t0.Add(3*time.Second))
	if len(drain(s, t0.Add(3*time.Second))) != 1 {
		t.Fatal("TCP again: not due at once")
	}
}

func TestScheduleShorterIntervalTakesEffectNow(t *testing.T) {
	cat := naming.NewCatalog()
	register(t, cat, svc, "10.0.0.1", false, nil, 0)
	s := newSchedule(DefaultProbeConfig())
	s.sync(svc, view(cat, svc), true, t0)
	tg := drain(s, t0)[0]
	s.finish(tg, NextDue(tg.Due, t0, tg.interval)) // next at 20 s
	if len(drain(s, t0.Add(19*time.Second))) != 0 {
		t.Fatal("due before 20 s")
	}
	setCluster(t, cat, svc, naming.ClusterConfig{Name: naming.DefaultCluster, HealthChecker: naming.HealthChecker{Type: "TCP"},
		UseInstancePortToCheck: true, Check: naming.CheckSettings{IntervalMillis: 1000}})
	s.sync(svc, view(cat, svc), true, t0.Add(2*time.Second))
	if len(drain(s, t0.Add(2900*time.Millisecond))) != 0 {
		t.Fatal("due before the new interval")
	}
	if len(drain(s, t0.Add(3*time.Second))) != 1 {
		t.Fatal("new 1 s interval not applied at once")
	}
}

func TestScheduleOwnership(t *testing.T) {
	cat := naming.NewCatalog()
	other := naming.NewServiceKey("", "", "billing")
	register(t, cat, svc, "10.0.0.1", false, nil, 0)
	register(t, cat, other, "10.0.0.2", false, nil, 0)
	s := newSchedule(DefaultProbeConfig())
	s.sync(svc, view(cat, svc), true, t0)
	s.sync(other, view(cat, other), true, t0)
	running := drain(s, t0)

	// Ownership of svc moves away: its targets go, its running probe too.
	s.sync(svc, view(cat, svc), false, t0.Add(time.Second))
	for _, tg := range running {
		s.finish(tg, t0.Add(20*time.Second))
	}
	if s.size() != 1 || s.lookup(svc, naming.InstanceKey{IP: "10.0.0.1", Port: 8080, Cluster: naming.DefaultCluster}) != nil {
		t.Fatalf("after losing svc: %d targets", s.size())
	}
	// Regained: due at once, same revision or not.
	s.sync(svc, view(cat, svc), true, t0.Add(2*time.Second))
	if got := drain(s, t0.Add(2*time.Second)); len(got) != 1 || got[0].svc != svc {
		t.Fatalf("regained: due %d", len(got))
	}
	// A service that disappeared from the listing is dropped.
	s.dropOthers(map[naming.ServiceKey]bool{svc: true})
	if s.size() != 1 {
		t.Fatalf("dropOthers kept %d", s.size())
	}
}
