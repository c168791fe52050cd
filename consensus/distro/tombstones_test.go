package distro

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"sextant/naming"
)

// One sweep that removes more instances than the cap, all in one
// millisecond: the cap trims a tenth, oldest first, never the whole burst.
func TestTombstoneTrimByCountOldestFirst(t *testing.T) {
	ts := newTombstones()
	k := svc("burst")
	key := func(i int) naming.InstanceKey {
		return naming.InstanceKey{IP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), Port: 80, Cluster: naming.DefaultCluster}
	}
	for i := range 100 {
		ts.set(k, key(i), 500) // older ones
	}
	for i := 100; i <= MaxTombstonesPerService; i++ {
		ts.set(k, key(i), 1000)
	}
	got := ts.list(k)
	if len(got) == 0 || len(got) > MaxTombstonesPerService {
		t.Fatalf("%d tombstones kept after passing the cap of %d", len(got), MaxTombstonesPerService)
	}
	if want := MaxTombstonesPerService + 1 - (MaxTombstonesPerService+1)/10; len(got) != want {
		t.Fatalf("%d tombstones kept, want %d (a tenth trimmed)", len(got), want)
	}
	for _, tb := range got {
		if tb.Time == 500 {
			t.Fatalf("tombstone %v of the older time kept while newer ones were trimmed", tb)
		}
	}
}

// A full beat sent before a deregistration but delivered to the
// responsible node after it: the answer is "not found" (the live client
// registers again) and the instance stays deregistered on every node.
func TestStaleFullBeatDoesNotResurrect(t *testing.T) {
	clk := newTestClock()
	h := newClockedHarness(t, 3, testConfig(), clusterConfig(), clk)
	x, y := h.addrs[0], h.addrs[1]
	k := keyOwnedBy(t, x, h.addrs, "owned")
	if err := h.applyRetry(y, registerOp(k, "10.4.0.1", 80), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { return has(h.node(y), k, "10.4.0.1:80") })
	clk.Advance(time.Second)
	beat := beatOp(k, "10.4.0.1", 80)
	beat.Time = clk.Now(y).UnixMilli() // stamped when y received it
	clk.Advance(time.Second)
	if err := h.node(x).eng.Apply(context.Background(), deregisterOp(k, "10.4.0.1", 80)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { return !has(h.node(y), k, "10.4.0.1:80") })
	err := h.node(y).eng.Apply(context.Background(), beat)
	if !errors.Is(err, naming.ErrNotFound) {
		t.Fatalf("stale full beat answered %v, want not found", err)
	}
	h.staysGone(x, k, "10.4.0.1:80")
	// A full beat within a beat interval of the deregistration may have
	// raced it: not found (a live client registers again). Past that, a
	// full beat re-creates the instance, as full beats do.
	clk.Advance(time.Second)
	if err := h.node(y).eng.Apply(context.Background(), beatOp(k, "10.4.0.1", 80)); !errors.Is(err, naming.ErrNotFound) {
		t.Fatalf("full beat 2 s after the deregistration: %v, want not found", err)
	}
	clk.Advance(staleBeatWindow)
	if err := h.node(y).eng.Apply(context.Background(), beatOp(k, "10.4.0.1", 80)); err != nil {
		t.Fatalf("fresh full beat: %v", err)
	}
	if !has(h.node(x), k, "10.4.0.1:80") {
		t.Fatal("a fresh full beat did not re-create the instance")
	}
}

// A client's last full beat and its deregistration leave together through
// two members, the beat's running 30 s ahead, so its stamp reads as sent
// after the deregistration. The responsible node, which applied the
// deregistration moments before, answers "not found" rather than bring the
// instance back, and no node lists it again. A registration right after
// is taken.
func TestFullBeatRacingItsDeregistrationAcrossClocks(t *testing.T) {
	clk := newTestClock()
	h := newClockedHarness(t, 3, testConfig(), clusterConfig(), clk)
	x, y := h.addrs[0], h.addrs[1]
	clk.Skew(y, 30*time.Second)
	k := keyOwnedBy(t, x, h.addrs, "race")
	if err := h.applyRetry(x, registerOp(k, "10.4.1.1", 80), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { return has(h.node(y), k, "10.4.1.1:80") })
	beat := beatOp(k, "10.4.1.1", 80)
	beat.Time = clk.Now(y).UnixMilli()
	if err := h.node(x).eng.Apply(context.Background(), deregisterOp(k, "10.4.1.1", 80)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { return !has(h.node(y), k, "10.4.1.1:80") })
	if err := h.node(y).eng.Apply(context.Background(), beat); !errors.Is(err, naming.ErrNotFound) {
		t.Fatalf("full beat racing the deregistration answered %v, want not found", err)
	}
	h.staysGone(x, k, "10.4.1.1:80")
	if err := h.applyRetry(y, registerOp(k, "10.4.1.1", 80), 5*time.Second); err != nil {
		t.Fatalf("registration right after: %v", err)
	}
	if !has(h.node(x), k, "10.4.1.1:80") {
		t.Fatal("the registration right after the deregistration was not applied")
	}
}

// The cap over all services forgets the oldest first, down to nine tenths.
func TestTombstoneTotalCap(t *testing.T) {
	ts := newTombstones()
	for s := range 20 {
		for i := range 10 {
			ts.set(svc(fmt.Sprintf("s%d", s)), naming.InstanceKey{IP: fmt.Sprintf("10.0.0.%d", i+1), Port: 80, Cluster: naming.DefaultCluster}, int64(s*10+i+1))
		}
	}
	if n := ts.capTotal(100); n != 110 {
		t.Fatalf("forgot %d, want 110 (200 down to 90)", n)
	}
	total := 0
	for _, k := range ts.keys() {
		for _, tb := range ts.list(k) {
			total++
			if tb.Time <= 110 {
				t.Fatalf("kept %v of time %d while newer ones went", tb.Instance, tb.Time)
			}
		}
	}
	if total != 90 {
		t.Fatalf("%d kept, want 90", total)
	}
	if ts.capTotal(100) != 0 {
		t.Fatal("forgot entries under the cap")
	}
}

// Verify fetches large services in messages of bounded size, each large
// one alone, and small ones together.
func TestFetchChunksBySize(t *testing.T) {
	e, _, _ := soloEngine(t)
	big := []naming.ServiceKey{svc("big-1"), svc("big-2")}
	for _, k := range big {
		rec := Record{Key: k}
		for i := range MaxSyncEntries * 3 / 4 {
			rec.Instances = append(rec.Instances, inst(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), 80, 1))
		}
		if _, err := e.mergeRecord(rec, false); err != nil {
			t.Fatal(err)
		}
	}
	keys := append([]naming.ServiceKey{}, big...)
	for i := range 5 {
		keys = append(keys, svc(fmt.Sprintf("small-%d", i)))
	}
	chunks := e.fetchChunks(keys)
	if len(chunks) != 2 || len(chunks[0]) != 1 || len(chunks[1]) != 6 {
		t.Fatalf("chunks %v, want the first large service alone, then the second with the small ones", chunks)
	}
}

// A client's deregistration leaves for the peers at once, not a SyncDelay
// later, so the owner crashing right after acknowledging it loses nothing.
func TestDeregistrationSyncedAtOnce(t *testing.T) {
	cfg := testConfig()
	cfg.SyncDelay = 30 * time.Second // the batched sync never runs during the test
	cfg.QueuedGrace = time.Minute    // nor does verify repair what waits for it
	cfg.TombstoneTTL = 3 * time.Minute
	h := newHarness(t, 3, cfg, clusterConfig())
	x, y := h.addrs[0], h.addrs[1]
	k := keyOwnedBy(t, x, h.addrs, "dereg-now")
	if err := h.applyRetry(x, registerOp(k, "10.13.0.1", 80), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	rec := h.node(x).eng.snapshot(k) // y gets the registration by hand
	if _, err := h.node(y).eng.mergeRecord(rec, false); err != nil {
		t.Fatal(err)
	}
	if err := h.node(x).eng.Apply(context.Background(), deregisterOp(k, "10.13.0.1", 80)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, func() bool { return !has(h.node(y), k, "10.13.0.1:80") })
}

// A member whose clock runs a minute ahead of the responsible node's is
// cut off alone and takes a client's registration; the client then
// deregisters through the responsible node, which holds no copy yet. When
// the link returns, the cut-off member's copy arrives stamped after the
// deregistration: within the hold it loses on every member, and the client
// registering again through a third member is taken at once.
func TestDeregistrationHoldsAgainstACopyFromAFasterClock(t *testing.T) {
	s := registerOnAFasterClockAndDeregister(t, "10.4.2.1", time.Second)
	s.h.net.Heal()
	s.h.waitAgreed(s.h.addrs)
	s.h.staysGone(s.x, s.k, "10.4.2.1:80")
	if s.h.node(s.x).eng.Stats().HeldDeregistrations == 0 {
		t.Fatal("no copy was counted as held back")
	}

	// The client registers again through z, whose clock is the owner's:
	// the tombstone stamped past y's copy does not make it look stale.
	s.clk.Advance(time.Second)
	if err := s.h.node(s.z).eng.Apply(context.Background(), stampedBy(s.clk, s.z, registerOp(s.k, "10.4.2.1", 80))); err != nil {
		t.Fatalf("registering again after the held deregistration: %v", err)
	}
	waitFor(t, 5*time.Second, func() bool {
		return has(s.h.node(s.x), s.k, "10.4.2.1:80") && has(s.h.node(s.y), s.k, "10.4.2.1:80") && has(s.h.node(s.z), s.k, "10.4.2.1:80")
	})
}

// Past the hold, a copy stamped later than the deregistration wins, as
// any later write does.
func TestDeregistrationHoldEnds(t *testing.T) {
	s := registerOnAFasterClockAndDeregister(t, "10.4.3.1", deregistrationHold)
	s.h.net.Heal()
	s.h.waitAgreed(s.h.addrs)
	waitFor(t, 5*time.Second, func() bool {
		return has(s.h.node(s.x), s.k, "10.4.3.1:80") && has(s.h.node(s.z), s.k, "10.4.3.1:80")
	})
	if n := s.h.node(s.x).eng.Stats().HeldDeregistrations; n != 0 {
		t.Fatalf("%d copies held back past the hold", n)
	}
}

// skewedSplit is a 3-node cluster whose member y runs a minute ahead and
// is cut off, k a service x is responsible for.
type skewedSplit struct {
	h       *harness
	clk     *testClock
	x, y, z string
	k       naming.ServiceKey
}

// registerOnAFasterClockAndDeregister cuts y off alone, registers ip:80
// through it (y, alone, is responsible for everything), lets the test
// clock run for after, then deregisters the instance through x, which
// holds no copy of it. The link stays cut.
func registerOnAFasterClockAndDeregister(t *testing.T, ip string, after time.Duration) skewedSplit {
	clk := newTestClock()
	h := newClockedHarness(t, 3, testConfig(), clusterConfig(), clk)
	s := skewedSplit{h: h, clk: clk, x: h.addrs[0], y: h.addrs[1], z: h.addrs[2]}
	clk.Skew(s.y, time.Minute)
	s.k = keyOwnedBy(t, s.x, h.addrs, "held")
	ctx := context.Background()
	h.net.Isolate(s.y)
	waitFor(t, 5*time.Second, func() bool { return slices.Equal(h.node(s.y).mem.Live(), []string{s.y}) })
	h.waitAgreed([]string{s.x, s.z})
	if err := h.node(s.y).eng.Apply(ctx, stampedBy(clk, s.y, registerOp(s.k, ip, 80))); err != nil {
		t.Fatalf("the cut-off member refused the registration: %v", err)
	}
	clk.Advance(time.Second)
	if err := h.node(s.x).eng.Apply(ctx, stampedBy(clk, s.x, deregisterOp(s.k, ip, 80))); err != nil {
		t.Fatal(err)
	}
	clk.Advance(after)
	return s
}

// stampedBy stamps op as the front of the member at addr does, with that
// member's clock.
func stampedBy(clk *testClock, addr string, op naming.Op) naming.Op {
	op.Time = clk.Now(addr).UnixMilli()
	return op
}
