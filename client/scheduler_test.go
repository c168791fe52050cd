package client

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSchedulerBoundsWorkersAndNeverOverlapsATask(t *testing.T) {
	s := newScheduler(2)
	s.start(t.Context())
	defer s.close()
	var running, peak, runs atomic.Int64
	var mu sync.Mutex
	perKey := map[string]int{}
	overlap := false
	for i := 0; i < 6; i++ {
		key := "k" + itoa(i)
		s.schedule(key, 0, func(ctx context.Context) time.Duration {
			mu.Lock()
			perKey[key]++
			if perKey[key] > 1 {
				overlap = true
			}
			mu.Unlock()
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			running.Add(-1)
			mu.Lock()
			perKey[key]--
			mu.Unlock()
			if runs.Add(1) >= 30 {
				return -1
			}
			return 0
		})
	}
	waitFor(t, 5*time.Second, "30 runs", func() bool { return runs.Load() >= 30 })
	if peak.Load() > 2 {
		t.Fatalf("%d tasks ran at once on 2 workers", peak.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if overlap {
		t.Fatal("a task ran twice at once")
	}
}

func TestSchedulerCancelAndRunNow(t *testing.T) {
	s := newScheduler(1)
	s.start(t.Context())
	defer s.close()
	var a, b atomic.Int64
	s.schedule("a", time.Hour, func(context.Context) time.Duration { a.Add(1); return time.Hour })
	s.schedule("b", 0, func(context.Context) time.Duration { b.Add(1); return 10 * time.Millisecond })
	s.runNow("a")
	waitFor(t, 2*time.Second, "a run by runNow", func() bool { return a.Load() == 1 })
	waitFor(t, 2*time.Second, "b repeating", func() bool { return b.Load() >= 3 })
	s.cancel("b")
	if s.has("b") {
		t.Fatal("cancelled task still held")
	}
	n := b.Load()
	// No timed assertion on absence: let a later task run, then check.
	var c atomic.Int64
	s.schedule("c", 50*time.Millisecond, func(context.Context) time.Duration { c.Add(1); return -1 })
	waitFor(t, 2*time.Second, "c", func() bool { return c.Load() == 1 })
	if got := b.Load(); got > n+1 {
		t.Fatalf("cancelled task kept running: %d -> %d", n, got)
	}
	if s.has("c") {
		t.Fatal("a finished task is still held")
	}
}
