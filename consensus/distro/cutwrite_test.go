package distro

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// A deregistration a node cut off from its peers acknowledged (it owns
// everything in its view then) reaches the real owner after the heal,
// even while other writes to the same service keep the owner's sync queue
// busy: the first verify exchange with a member that was out of the view
// repairs every copy that differs, rather than leaving it to a sync that
// carries only the owner's changes.
func TestDeregistrationAcknowledgedWhileCutOffReachesTheOwner(t *testing.T) {
	cfg := testConfig()
	cfg.QueuedGrace = time.Minute // as in production: far longer than the test waits
	cfg.TombstoneTTL = 3 * time.Minute
	// The cut is shorter than three verify intervals, as a partition of a
	// few seconds is in production (5 s intervals).
	cfg.VerifyInterval = time.Second
	h := newHarness(t, 3, cfg, clusterConfig())
	x, o := h.addrs[0], h.addrs[1]
	k := keyOwnedBy(t, o, h.addrs, "cutwrite")
	if err := h.applyRetry(o, registerOp(k, "10.9.0.1", 80), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool {
		return has(h.node(x), k, "10.9.0.1:80") && has(h.node(h.addrs[2]), k, "10.9.0.1:80")
	})

	h.net.Isolate(x)
	waitFor(t, 5*time.Second, func() bool { return slices.Equal(h.node(x).mem.Live(), []string{x}) })
	if err := h.node(x).eng.Apply(context.Background(), deregisterOp(k, "10.9.0.1", 80)); err != nil {
		t.Fatalf("the cut-off node refused the deregistration: %v", err)
	}
	h.waitAgreed(h.addrs[1:])

	// Other clients of the service keep registering and deregistering
	// through the owner, before, during and after the heal.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil && i < 100000; i++ {
			ip := fmt.Sprintf("10.9.1.%d", i%200+1)
			op := registerOp(k, ip, 80)
			if i%2 == 1 {
				op = deregisterOp(k, ip, 80)
			}
			_ = h.node(o).eng.Apply(ctx, op)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	defer wg.Wait()
	defer stop()

	h.net.Heal()
	h.waitAgreed(h.addrs)
	rounds := h.node(o).eng.Stats().VerifyRounds
	waitFor(t, 10*time.Second, func() bool { return h.node(o).eng.Stats().VerifyRounds >= rounds+3 })
	for _, nd := range h.running() {
		if has(nd, k, "10.9.0.1:80") {
			t.Errorf("%s still lists 10.9.0.1:80, deregistered (and acknowledged) by %s while it was cut off", nd.addr, x)
		}
	}
}
