package healthcheck

import (
	"fmt"
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
