package distro

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sextant/naming"
)

// The rule of lingerLeft on an explicit time line: notices alone wait
// until the first one seen has waited the linger; a waiting write, a full
// message or no linger at all sends at once; a take starts over.
func TestNoticeLingerRule(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	const linger = 20 * time.Millisecond
	q := &forwardQueue{notices: map[noticeKey]*pendingForward{}, wake: make(chan struct{}, 1)}
	notice := func(i int) *pendingForward {
		return &pendingForward{op: beatOp(svc("linger"), fmt.Sprintf("10.0.%d.%d", i/250, i%250), 80)}
	}
	if d := q.lingerLeft(t0, linger); d != 0 {
		t.Fatalf("an empty queue lingers %v", d)
	}
	q.add(notice(0), 0)
	if d := q.lingerLeft(t0, linger); d != linger {
		t.Fatalf("the first notice lingers %v, want %v", d, linger)
	}
	q.add(notice(1), 0)
	if d := q.lingerLeft(t0.Add(15*time.Millisecond), linger); d != 5*time.Millisecond {
		t.Fatalf("a later notice moved the deadline: %v left at 15 ms", d)
	}
	if d := q.lingerLeft(t0.Add(linger), linger); d > 0 {
		t.Fatalf("still lingering at the deadline: %v", d)
	}
	if d := q.lingerLeft(t0, 0); d != 0 {
		t.Fatalf("no linger configured, yet %v", d)
	}

	w := &pendingForward{op: registerOp(svc("linger"), "10.9.0.1", 80), done: make(chan error, 1)}
	q.add(w, 0)
	if d := q.lingerLeft(t0, linger); d != 0 {
		t.Fatalf("a write waits for its answer, yet the queue lingers %v", d)
	}
	if got := len(q.take()); got != 3 {
		t.Fatalf("took %d entries, want the two notices and the write", got)
	}
	q.add(notice(2), 0)
	if d := q.lingerLeft(t0.Add(time.Second), linger); d != linger {
		t.Fatalf("after a take, a new notice lingers %v, want a whole %v", d, linger)
	}
	for i := 3; len(q.waiting) < MaxForwardBatch; i++ {
		q.add(notice(i), 0)
	}
	if d := q.lingerLeft(t0.Add(time.Second), linger); d != 0 {
		t.Fatalf("a full message lingers %v", d)
	}
}

// Beat notices received close together reach the responsible node in one
// message, and a write through the same node does not wait for the
// linger: it leaves at once and takes the notices along.
func TestBeatNoticesTravelTogether(t *testing.T) {
	cc := clusterConfig()
	cc.ReportInterval = time.Minute // the owner is never marked DOWN during the test
	cfg := testConfig()
	cfg.NoticeLinger = time.Second
	h := newHarness(t, 3, cfg, cc)
	a, b := h.addrs[0], h.addrs[1]
	k := keyOwnedBy(t, b, h.addrs, "together")
	const n = 40
	for i := range n {
		if err := h.node(a).eng.Apply(context.Background(), registerOp(k, fmt.Sprintf("10.2.0.%d", i), 80)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, func() bool { return len(ips(h.node(a).cat, k)) == n })
	beatsAt := func(min int64) int {
		v, _ := h.node(b).cat.View(k)
		got := 0
		for in := range v.All() {
			if in.LastBeat() >= min {
				got++
			}
		}
		return got
	}

	start := time.Now().UnixMilli() + 1
	waitFor(t, 2*time.Second, func() bool { return time.Now().UnixMilli() > start })
	before := h.node(a).eng.Stats()
	// Paced as clients beat, a few milliseconds apart: without the linger
	// each notice would leave on its own.
	pace := time.NewTicker(5 * time.Millisecond)
	defer pace.Stop()
	for i := range n {
		<-pace.C
		if err := h.node(a).eng.Apply(context.Background(), beatOp(k, fmt.Sprintf("10.2.0.%d", i), 80)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, func() bool { return beatsAt(start) == n })
	after := h.node(a).eng.Stats()
	if notices := after.BeatNotices - before.BeatNotices; notices != n {
		t.Fatalf("%d beats went as notices, want %d", notices, n)
	}
	if msgs := after.ForwardBatches - before.ForwardBatches; msgs > 2 {
		t.Fatalf("%d beat notices took %d messages", n, msgs)
	}

	// The linger (1 s) is past the forward timeout (500 ms): a write that
	// waited for it would fail. It leaves at once, with the notice queued
	// before it in the same message, so the responsible node holds the
	// beat as soon as the write is answered.
	start = time.Now().UnixMilli() + 1
	waitFor(t, 2*time.Second, func() bool { return time.Now().UnixMilli() > start })
	if err := h.node(a).eng.Apply(context.Background(), beatOp(k, "10.2.0.0", 80)); err != nil {
		t.Fatal(err)
	}
	if err := h.node(a).eng.Apply(context.Background(), registerOp(k, "10.2.1.1", 80)); err != nil {
		t.Fatalf("a write behind a lingering notice: %v", err)
	}
	v, _ := h.node(b).cat.View(k)
	if in := v.Lookup(naming.InstanceKey{IP: "10.2.0.0", Port: 80, Cluster: naming.DefaultCluster}); in == nil || in.LastBeat() < start {
		t.Fatal("when the write was answered the responsible node did not hold the beat noticed before it")
	}
}
