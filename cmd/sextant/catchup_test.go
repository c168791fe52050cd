package main

import (
	"testing"
	"time"
)

// A starting member waits for the Raft leader's word up to catchUpTimeout
// on its clock, and no longer: past it, it serves (a member restarted on
// the minority side has no leader); once caught up it does not wait.
func TestAwaitCatchUpBound(t *testing.T) {
	at := time.Unix(1000, 0)
	now := func() time.Time { return at }
	tick := make(chan time.Time)
	quit := make(chan struct{})
	type result struct{ caught, ok bool }
	// run starts awaitCatchUp and returns once it has made its first
	// check, so it read its start time before the test moves the clock.
	run := func(caughtUp func() bool) chan result {
		out := make(chan result, 1)
		first := make(chan struct{})
		calls := 0
		go func() {
			c, ok := awaitCatchUp(func() bool {
				if calls++; calls == 1 {
					defer close(first)
				}
				return caughtUp()
			}, now, tick, quit)
			out <- result{c, ok}
		}()
		<-first
		return out
	}

	// Never caught up: each tick moves the clock a second; it gives up at
	// the bound, not before.
	checks := 0
	res := run(func() bool { checks++; return false })
	for i := 1; i < int(catchUpTimeout/time.Second); i++ {
		at = at.Add(time.Second)
		tick <- at
	}
	select {
	case r := <-res:
		t.Fatalf("gave up %v before the bound: %+v", catchUpTimeout-time.Second, r)
	default:
	}
	at = at.Add(time.Second)
	tick <- at
	if r := <-res; r.caught || !r.ok {
		t.Fatalf("at the bound: %+v, want given up", r)
	}
	if checks != int(catchUpTimeout/time.Second)+1 {
		t.Fatalf("checked %d times, want once at start and at every tick", checks)
	}

	// Caught up at the third check.
	n := 0
	res = run(func() bool { n++; return n == 3 })
	tick <- at
	tick <- at
	if r := <-res; !r.caught || !r.ok {
		t.Fatalf("caught up: %+v", r)
	}

	// Stopped while waiting.
	res = run(func() bool { return false })
	close(quit)
	if r := <-res; r.ok {
		t.Fatalf("stopped: %+v, want not ok", r)
	}
}
