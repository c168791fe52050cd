package healthcheck

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"sextant/naming"
)

// switchPeers is a Peers whose answer the test sets.
type switchPeers struct{ reachable atomic.Bool }

func (p *switchPeers) AllReachable() bool { return p.reachable.Load() }

// preserveFixture registers n ephemeral instances in svc at 0 and keeps
// beating the first `beating` of them; the rest stop.
func preserveFixture(t *testing.T, cfg Config, n int) (*naming.Catalog, *BeatChecker, *switchPeers, []naming.InstanceKey) {
	t.Helper()
	cat := naming.NewCatalog()
	peers := &switchPeers{}
	b, err := NewBeatChecker(cfg, cat, &catWriter{cat: cat}, newFakeClock(t0), peers, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	var iks []naming.InstanceKey
	for i := range n {
		iks = append(iks, register(t, cat, svc, fmt.Sprintf("10.0.1.%d", i+1), true, nil, 0))
	}
	b.Sweep(context.Background(), t0) // owned from t0
	return cat, b, peers, iks
}

func sweepTo(b *BeatChecker, cat *naming.Catalog, beating []naming.InstanceKey, t *testing.T, until time.Duration) {
	for at := time.Second; at <= until; at += time.Second {
		for _, ik := range beating {
			beat(t, cat, svc, ik, at)
		}
		b.Sweep(context.Background(), t0.Add(at))
	}
}

// While a member is unreachable, a sweep that would remove more than the
// allowed share of a service's instances removes none (they turn
// unhealthy), counts them, and removes them once every member is back.
func TestSelfPreservationHoldsMassRemoval(t *testing.T) {
	cat, b, peers, iks := preserveFixture(t, DefaultConfig(), 4)
	sweepTo(b, cat, iks[:2], t, 40*time.Second) // half the service stops beating
	for _, ik := range iks[2:] {
		in := instance(cat, svc, ik)
		if in == nil {
			t.Fatalf("%v removed while a member was unreachable", ik)
		}
		if in.Healthy {
			t.Fatalf("%v held back but still healthy", ik)
		}
	}
	if b.Stats().Held == 0 {
		t.Fatal("held removals not counted")
	}
	peers.reachable.Store(true)
	b.Sweep(context.Background(), t0.Add(41*time.Second))
	for _, ik := range iks[2:] {
		if instance(cat, svc, ik) != nil {
			t.Fatalf("%v not removed once every member was reachable", ik)
		}
	}
	for _, ik := range iks[:2] {
		if in := instance(cat, svc, ik); in == nil || !in.Healthy {
			t.Fatalf("beating instance %v harmed: %+v", ik, in)
		}
	}
}

// A removal within the share goes ahead even while a member is
// unreachable, and with the switch off nothing is held.
func TestSelfPreservationLetsSmallRemovalsThrough(t *testing.T) {
	cat, b, _, iks := preserveFixture(t, DefaultConfig(), 8)
	sweepTo(b, cat, iks[1:], t, 31*time.Second) // one of eight stops: 12.5%
	if instance(cat, svc, iks[0]) != nil {
		t.Fatal("one silent instance of eight was held back")
	}
	off := DefaultConfig()
	off.SelfPreservation = false
	cat, b, _, iks = preserveFixture(t, off, 2)
	sweepTo(b, cat, nil, t, 31*time.Second)
	for _, ik := range iks {
		if instance(cat, svc, ik) != nil {
			t.Fatalf("%v held back with self-preservation off", ik)
		}
	}
	if b.Stats().Held != 0 {
		t.Fatal("held counted with self-preservation off")
	}
	bad := DefaultConfig()
	bad.PreserveShare = 1.5
	if bad.Validate() == nil {
		t.Fatal("a share above 1 accepted")
	}
}
