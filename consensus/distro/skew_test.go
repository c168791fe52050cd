package distro

import (
	"context"
	"testing"
	"time"

	"sextant/naming"
)

// poll waits for cond up to timeout and reports whether it held.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// lastBeatOn returns the last beat nd's catalog holds for ip:80 of k, 0
// when it does not hold the instance.
func lastBeatOn(nd *node, k naming.ServiceKey, ip string) int64 {
	s, ok := nd.cat.Service(k)
	if !ok {
		return 0
	}
	in := s.Lookup(naming.InstanceKey{IP: ip, Port: 80, Cluster: naming.DefaultCluster})
	if in == nil {
		return 0
	}
	return in.LastBeat()
}

// The node a client beats through runs 60 s behind the responsible node,
// or 60 s ahead: beats are judged by the responsible node's clock, so a
// client that keeps beating is never flipped, and one that stops is
// flipped and removed on time.
func TestClockSkewDoesNotFlipOrKeep(t *testing.T) {
	for _, skew := range []time.Duration{-time.Minute, time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			clk := newTestClock()
			h := newClockedHarness(t, 3, testConfig(), clusterConfig(), clk)
			x, y := h.addrs[0], h.addrs[1]
			clk.Skew(y, skew)
			k := keyOwnedBy(t, x, h.addrs, "owned")
			hc := newCheckers(h)
			if err := h.applyRetry(y, registerOp(k, "10.5.0.1", 80), 5*time.Second); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, func() bool { return has(h.node(y), k, "10.5.0.1:80") })
			hc.sweep()
			flips := h.node(x).cat.HealthFlips()
			for range 9 { // 45 s, a beat through y every 5 s
				clk.Advance(5 * time.Second)
				beat := beatOp(k, "10.5.0.1", 80)
				beat.Time = clk.Now(y).UnixMilli() // as y's front stamps it
				if err := h.node(y).eng.Apply(context.Background(), beat); err != nil {
					t.Fatal(err)
				}
				want := clk.Now(x).UnixMilli()
				poll(2*time.Second, func() bool { return lastBeatOn(h.node(x), k, "10.5.0.1") >= want })
				hc.sweep()
			}
			if got := h.node(x).cat.HealthFlips(); got != flips {
				t.Fatalf("a client beating every 5 s was flipped under %v of skew: %+v -> %+v", skew, flips, got)
			}
			// The client stops: removed once the delete timeout passes on
			// the responsible node's clock, not 60 s later.
			for range 7 {
				clk.Advance(5 * time.Second)
				hc.sweep()
			}
			if has(h.node(x), k, "10.5.0.1:80") {
				t.Fatalf("a client silent for 35 s is still listed under %v of skew", skew)
			}
		})
	}
}

// A beat answered at once by a copy, whose message to the responsible
// node is lost, is sent again: the responsible node records it once the
// link is back.
func TestLostBeatNoticeIsRetried(t *testing.T) {
	cc := clusterConfig()
	cc.ReportInterval = time.Minute // member views do not move during the test
	clk := newTestClock()
	h := newClockedHarness(t, 3, testConfig(), cc, clk)
	x, y := h.addrs[0], h.addrs[1]
	k := keyOwnedBy(t, x, h.addrs, "owned")
	if err := h.applyRetry(x, registerOp(k, "10.6.0.1", 80), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { return has(h.node(y), k, "10.6.0.1:80") })
	clk.Advance(5 * time.Second)
	want := clk.Now(x).UnixMilli()
	h.net.Partition([]string{x}, []string{y})
	if err := h.node(y).eng.Apply(context.Background(), beatOp(k, "10.6.0.1", 80)); err != nil {
		t.Fatalf("a beat of a held instance: %v", err)
	}
	waitFor(t, 5*time.Second, func() bool { return h.node(y).eng.Stats().ForwardBatches > 0 })
	time.Sleep(h.cfg.RetryInterval / 2) // the first message fails meanwhile
	h.net.Heal()
	waitFor(t, 5*time.Second, func() bool { return lastBeatOn(h.node(x), k, "10.6.0.1") >= want })
	if st := h.node(y).eng.Stats(); st.BeatNoticesFailed != 0 {
		t.Fatalf("a notice counted as lost though the link came back: %+v", st)
	}
}

// Beats of one instance waiting for a slow node take one place in its
// queue, the latest beat winning.
func TestBeatNoticesCoalesce(t *testing.T) {
	q := &forwardQueue{peer: "p", wake: make(chan struct{}, 1), notices: map[noticeKey]*pendingForward{}}
	k := svc("coalesce")
	for i := range 5 {
		op := beatOp(k, "10.7.0.1", 80)
		op.Time = int64(100 + i)
		if !q.add(&pendingForward{op: op}, maxNoticeBacklog) {
			t.Fatal("notice refused")
		}
	}
	other := beatOp(k, "10.7.0.2", 80)
	q.add(&pendingForward{op: other}, maxNoticeBacklog)
	batch := q.take()
	if len(batch) != 2 || batch[0].op.Time != 104 {
		t.Fatalf("queue held %d writes (first at %d), want 2 with the latest beat", len(batch), batch[0].op.Time)
	}
	if len(q.notices) != 0 {
		t.Fatalf("%d notices remembered after they left the queue", len(q.notices))
	}
}

// Beat marks keep a service's sync queue busy, but a mark is not in the
// checksums: a copy that missed a deregistration is repaired at the next
// verify rounds, not left to the sync for QueuedGrace.
func TestMarksDoNotDelayRepair(t *testing.T) {
	cfg := testConfig()
	cfg.BeatMarkInterval = time.Millisecond // every beat is a mark
	cfg.SyncDelay = 3 * time.Second         // marks wait in the dirty set between syncs
	cfg.QueuedGrace = time.Minute
	cfg.TombstoneTTL = 3 * time.Minute
	h := newHarness(t, 3, cfg, clusterConfig())
	x, y := h.addrs[0], h.addrs[1]
	k := keyOwnedBy(t, x, h.addrs, "marks")
	for _, ip := range []string{"10.10.0.1", "10.10.0.2"} {
		if err := h.applyRetry(x, registerOp(k, ip, 80), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.node(x).eng.Apply(context.Background(), deregisterOp(k, "10.10.0.2", 80)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return has(h.node(y), k, "10.10.0.1:80") && h.converged() })
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // a client beating all the time
		defer close(done)
		for i := 0; i < 100000; i++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			h.node(x).eng.Apply(context.Background(), beatOp(k, "10.10.0.1", 80))
		}
	}()
	defer func() { close(stop); <-done }()
	// y misses the deregistration: its copy lists the instance again.
	ye := h.node(y).eng
	mu := ye.lockFor(k)
	mu.Lock()
	ye.tombs.remove(k, naming.InstanceKey{IP: "10.10.0.2", Port: 80, Cluster: naming.DefaultCluster})
	err := h.node(y).cat.Apply(naming.Op{Kind: naming.OpMergeEphemeral, Time: 1, Service: k, Instances: []*naming.Instance{inst("10.10.0.2", 80, 1)}})
	mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { return !has(h.node(y), k, "10.10.0.2:80") })
}

// A node that was paused works off its backlog: a beat sent before a
// deregistration made meanwhile elsewhere arrives at it while it still
// holds the instance. Its beat mark takes the beat's sending time, so the
// deregistration still wins the merge.
func TestLateBeatDoesNotOutrankDeregistration(t *testing.T) {
	e, cat, v := soloEngine(t)
	clk := newTestClock()
	e.now = clk.of(v.self) // not started: no loop reads it
	k := svc("late-beat")
	t0 := clk.Now(v.self).UnixMilli()
	if err := e.Apply(context.Background(), registerOp(k, "10.12.0.1", 80)); err != nil {
		t.Fatal(err)
	}
	clk.Advance(20 * time.Second)
	late := beatOp(k, "10.12.0.1", 80)
	late.Time = t0 + 6000 // sent 6 s after the registration, delivered 14 s later
	if err := e.Apply(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	// Meanwhile another side deregistered it, 10 s after the registration.
	dereg := Record{Key: k, Tombstones: []Tombstone{tomb("10.12.0.1", 80, t0+10000)}}
	if _, err := e.mergeRecord(dereg, false); err != nil {
		t.Fatal(err)
	}
	if got := ips(cat, k); len(got) != 0 {
		t.Fatalf("a beat delivered late outranked the deregistration: %v", got)
	}
}

// A beat mark from a responsible node whose clock runs a minute ahead
// raises a copy's last beat only to the copy's own now: the copy, once it
// judges the instance, must expire a client that stopped beating after
// the delete timeout on its clock, not a minute later.
func TestFutureMarkRaisesLastBeatOnlyToNow(t *testing.T) {
	clk := newTestClock()
	h := newClockedHarness(t, 3, testConfig(), clusterConfig(), clk)
	x, y := h.addrs[0], h.addrs[1]
	clk.Skew(x, time.Minute)
	k := keyOwnedBy(t, x, h.addrs, "ahead")
	reg := registerOp(k, "10.5.0.9", 80)
	reg.Time = clk.Now(x).UnixMilli()
	if err := h.applyRetry(x, reg, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	clk.Advance(6 * time.Second) // past BeatMarkInterval: the next beat is a mark
	beat := beatOp(k, "10.5.0.9", 80)
	beat.Time = clk.Now(x).UnixMilli()
	if err := h.node(x).eng.Apply(context.Background(), beat); err != nil {
		t.Fatal(err)
	}
	mark := clk.Now(x).UnixMilli()
	waitFor(t, 5*time.Second, func() bool { return h.node(y).eng.marks.get(k, reg.Instance.Key()) == mark })
	if lb, now := lastBeatOn(h.node(y), k, "10.5.0.9"), clk.Now(y).UnixMilli(); lb > now {
		t.Fatalf("y's last beat is %v past its clock", time.Duration(lb-now)*time.Millisecond)
	}
}
