package healthcheck

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"sextant/naming"
)

// The checkers follow changes without building instance lists: a sweep
// over a changed service, and the probe schedule following a registration
// into a large service, read the views' trees only. Building the list
// costs the whole service on every change (a 10,000-instance list every
// tick of a service under churn).
func TestCheckersBuildNoLists(t *testing.T) {
	cat := naming.NewCatalog()
	eph := naming.NewServiceKey("", "", "beating")
	per := naming.NewServiceKey("", "", "probed")
	for i := range 500 {
		register(t, cat, eph, fmt.Sprintf("10.0.%d.%d", i/250, i%250), true, nil, 0)
		register(t, cat, per, fmt.Sprintf("10.1.%d.%d", i/250, i%250), false, nil, 0)
	}
	unbuilt := func(k naming.ServiceKey) bool {
		v, _ := cat.View(k)
		return v.Instances == nil
	}

	f := &fixture{cat: cat, w: &catWriter{cat: cat}}
	var err error
	if f.b, err = NewBeatChecker(DefaultConfig(), cat, f.w, newFakeClock(t0), nil, quietLog()); err != nil {
		t.Fatal(err)
	}
	f.sweep(0)
	late := register(t, cat, eph, "10.9.9.9", true, nil, 0)
	f.sweep(time.Second) // nothing due: the view the sweep read stays the current one
	if !unbuilt(eph) {
		t.Fatal("the sweep built the list of the service it judged")
	}
	f.sweep(16 * time.Second) // every instance is past its beat timeout
	if in, _ := cat.Instance(eph, late); in == nil || in.Healthy {
		t.Fatalf("the sweep did not judge the service: %+v", in)
	}

	clk := newFakeClock(t0)
	c := startChecker(t, fastProbeConfig(), cat, &catWriter{cat: cat}, newFakeProber(), clk)
	clk.Advance(time.Second)
	waitFor(t, 5*time.Second, func() bool { return rescanned(c, t0.Add(time.Second)) })
	added := register(t, cat, per, "10.9.9.9", false, nil, 0)
	waitFor(t, 5*time.Second, func() bool {
		clk.Advance(10 * time.Millisecond) // ticks, short of the next rescan
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.sched.lookup(per, added) != nil
	})
	if !unbuilt(per) {
		t.Fatal("following a registration built the service's list")
	}
}

// groupWriter applies groups straight to the catalog, counting them.
type groupCatWriter struct {
	*catWriter
	groups atomic.Int64
}

func (w *groupCatWriter) ApplyGroup(_ context.Context, ops []naming.Op) []error {
	w.groups.Add(1)
	return w.cat.ApplyGroup(ops)
}

// A sweep writes the judgements of one service as one group, when the
// writer takes groups: every instance of two services that stop beating is
// flipped in one change of each, and removed in one more.
func TestSweepWritesOneGroupPerService(t *testing.T) {
	cat := naming.NewCatalog()
	keys := []naming.ServiceKey{naming.NewServiceKey("", "", "a"), naming.NewServiceKey("", "", "b")}
	for _, k := range keys {
		for i := range 300 {
			register(t, cat, k, fmt.Sprintf("10.0.%d.%d", i/250, i%250), true, nil, 0)
		}
	}
	w := &groupCatWriter{catWriter: &catWriter{cat: cat}}
	b, err := NewBeatChecker(DefaultConfig(), cat, w, newFakeClock(t0), nil, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	revs := func() (out []uint64) {
		for _, k := range keys {
			v, _ := cat.View(k)
			out = append(out, v.Revision)
		}
		return out
	}
	b.Sweep(context.Background(), t0)
	before := revs()
	b.Sweep(context.Background(), t0.Add(16*time.Second))
	after := revs()
	for i, k := range keys {
		v, _ := cat.View(k)
		for in := range v.All() {
			if in.Healthy {
				t.Fatalf("%s: %s still healthy 16 s after its last beat", k, in.Key().Addr())
			}
		}
		if after[i] == before[i] {
			t.Fatalf("%s did not change", k)
		}
	}
	if g := w.groups.Load(); g != 2 {
		t.Fatalf("the sweep wrote %d groups, want one per service", g)
	}
	if f := cat.HealthFlips(); f.ToUnhealthy != 600 {
		t.Fatalf("%d flips counted, want 600", f.ToUnhealthy)
	}
	b.Sweep(context.Background(), t0.Add(31*time.Second))
	for _, k := range keys {
		if v, ok := cat.View(k); ok && v.Len() != 0 {
			t.Fatalf("%s holds %d instances past the delete timeout", k, v.Len())
		}
	}
	if g := w.groups.Load(); g != 4 {
		t.Fatalf("%d groups after the expiry sweep, want 4", g)
	}
}
