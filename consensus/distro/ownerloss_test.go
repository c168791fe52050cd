package distro

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sextant/naming"
)

// The responsible node's process is gone (its port refuses) but the
// members have not marked it DOWN yet: a registration for one of its
// services is applied by the node that received it instead of being
// refused, and reaches the other survivor.
func TestRefusedOwnerIsTakenOver(t *testing.T) {
	cc := clusterConfig()
	cc.ReportInterval = time.Minute // nobody is marked DOWN during the test
	h := newHarness(t, 3, testConfig(), cc)
	x, y, z := h.addrs[0], h.addrs[1], h.addrs[2]
	k := keyOwnedBy(t, x, h.addrs, "owned")
	h.stop(x)
	if err := h.node(y).eng.Apply(context.Background(), registerOp(k, "10.9.0.1", 80)); err != nil {
		t.Fatalf("registration with the owner's process gone: %v", err)
	}
	if !has(h.node(y), k, "10.9.0.1:80") {
		t.Fatal("the receiving node does not hold the write it acknowledged")
	}
	waitFor(t, 5*time.Second, func() bool { return has(h.node(z), k, "10.9.0.1:80") })
	if h.node(y).eng.Stats().Takeovers == 0 {
		t.Fatal("takeover not counted")
	}
}

// A copy its owner does not list is the only holder of its data (here:
// written on a peer the owner never heard from). While the owner's fetches
// of it fail, the copy is kept; once a fetch goes through, the owner has it.
func TestOrphanKeptWhileFetchesFail(t *testing.T) {
	h := newHarness(t, 3, testConfig(), clusterConfig())
	x, y := h.addrs[0], h.addrs[1]
	k := keyOwnedBy(t, x, h.addrs, "owned")
	h.net.FailFetches(true)
	rec := Record{Key: k, Instances: []*naming.Instance{inst("10.9.1.1", 80, time.Now().UnixMilli())}}
	if _, err := h.node(y).eng.mergeRecord(rec, false); err != nil {
		t.Fatal(err)
	}
	rounds := h.node(x).eng.Stats().VerifyRounds
	waitFor(t, 10*time.Second, func() bool {
		return h.node(x).eng.Stats().VerifyRounds >= rounds+uint64(3*h.cfg.OrphanGrace)
	})
	if !has(h.node(y), k, "10.9.1.1:80") {
		t.Fatal("the only copy was dropped while its owner could not fetch it")
	}
	h.net.FailFetches(false)
	waitFor(t, 10*time.Second, func() bool { return has(h.node(x), k, "10.9.1.1:80") })
}

// A member that goes DOWN takes its per-peer queues and their goroutines
// with it, and verify's memory of it; they come back when it returns.
func TestPeerQueuesReclaimed(t *testing.T) {
	h := newHarness(t, 3, testConfig(), clusterConfig())
	x, y := h.addrs[0], h.addrs[1]
	k := keyOwnedBy(t, x, h.addrs, "owned")
	for _, op := range []naming.Op{registerOp(k, "10.9.2.1", 80), registerOp(keyOwnedBy(t, y, h.addrs, "owned"), "10.9.2.3", 80)} {
		if err := h.applyRetry(y, op, 5*time.Second); err != nil { // a forward to x, and a sync to x
			t.Fatal(err)
		}
	}
	e := h.node(y).eng
	queued := func() (fwd, sync, verify bool) {
		e.fmu.Lock()
		_, fwd = e.fwd[x]
		e.fmu.Unlock()
		e.pmu.Lock()
		_, sync = e.peers[x]
		e.pmu.Unlock()
		e.vmu.Lock()
		_, verify = e.lastVerify[x]
		if _, skips := e.skips[x]; skips {
			verify = true
		}
		e.vmu.Unlock()
		return fwd, sync, verify
	}
	waitFor(t, 5*time.Second, func() bool { f, s, v := queued(); return f && s && v })
	h.net.Isolate(x)
	h.waitAgreed(h.addrs[1:])
	waitFor(t, 5*time.Second, func() bool { f, s, v := queued(); return !f && !s && !v })
	h.net.Heal()
	h.waitAgreed(h.addrs)
	if err := h.applyRetry(y, registerOp(k, "10.9.2.2", 80), 5*time.Second); err != nil {
		t.Fatalf("write through a returned owner: %v", err)
	}
}

// Numbers: registrations refused after the responsible node dies, and for
// how long: its process gone (the port refuses: taken over at once), or
// its host gone (no answer at all: refused until the members mark it
// DOWN). Clients retry every 50 ms through another node.
//
//	go test -count=1 -run TestNumbersOwnerDeath -v ./consensus/distro/
//	SEXTANT_DISTRO_TIMINGS=default go test -count=1 -run TestNumbersOwnerDeath -v ./consensus/distro/
func TestNumbersOwnerDeath(t *testing.T) {
	for _, how := range []string{"process", "host"} {
		t.Run(how, func(t *testing.T) {
			cfg, ccfg, _ := timings()
			h := newHarness(t, 3, cfg, ccfg)
			x, y := h.addrs[0], h.addrs[1]
			k := keyOwnedBy(t, x, h.addrs, "death")
			if how == "process" {
				h.stop(x)
			} else {
				h.net.Blackhole(true)
				h.net.Isolate(x)
			}
			start := time.Now()
			refused := 0
			for i := 0; ; i++ {
				err := h.node(y).eng.Apply(context.Background(), registerOp(k, fmt.Sprintf("10.30.%d.%d", i/250, i%250+1), 80))
				if err == nil {
					break
				}
				refused++
				if time.Since(start) > h.scale*10*time.Second {
					t.Fatalf("still refused after %v: %v", time.Since(start), err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("owner's %s gone: %d registrations refused, first accepted %v after the death", how, refused, time.Since(start).Round(time.Millisecond))
			if how == "process" && refused != 0 {
				t.Fatalf("%d registrations refused while the owner's port refused connections", refused)
			}
		})
	}
}

// After a gap in verify exchanges with a peer (the owner was paused or cut
// off from it), the owner's own copy may be the stale one: the first
// exchange repairs every difference even while changes of the service wait
// in the owner's queues, and the peer's newer deregistration reaches it.
func TestVerifyAfterGapRepairsDespiteQueuedChanges(t *testing.T) {
	cc := clusterConfig()
	cc.ReportInterval = time.Minute // views do not move while x and y are apart
	cfg := testConfig()
	cfg.SyncDelay = 30 * time.Second // x's changes wait in its dirty set throughout
	cfg.QueuedGrace = time.Minute
	cfg.TombstoneTTL = 3 * time.Minute
	h := newHarness(t, 3, cfg, cc)
	x, y := h.addrs[0], h.addrs[1]
	k := keyOwnedBy(t, x, h.addrs, "gap")
	for _, ip := range []string{"10.14.0.1", "10.14.0.2"} {
		if err := h.node(x).eng.Apply(context.Background(), registerOp(k, ip, 80)); err != nil {
			t.Fatal(err)
		}
	}
	h.net.Partition([]string{x}, []string{y})
	time.Sleep(4 * cfg.VerifyInterval) // x's exchanges with y fail meanwhile
	// y saw a deregistration x did not (x was cut off from y).
	later := time.Now().Add(time.Second).UnixMilli()
	if _, err := h.node(y).eng.mergeRecord(Record{Key: k, Tombstones: []Tombstone{tomb("10.14.0.2", 80, later)}}, false); err != nil {
		t.Fatal(err)
	}
	h.net.Heal()
	waitFor(t, 5*time.Second, func() bool { return !has(h.node(x), k, "10.14.0.2:80") })
}
