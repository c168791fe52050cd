package distro

import (
	"context"
	"errors"
	"testing"
	"time"

	"sextant/naming"
)

// TestBeatNoticedWithoutWaiting: a beat on a node whose copy holds the
// instance is answered at once and reaches the responsible node; a beat
// for an instance the copy does not hold waits for the responsible node's
// answer (20404 material). With the responsible node unreachable, the
// first such beat is still answered at once; once it has failed, beats
// wait for the answer (and fail) until a message goes through again.
func TestBeatNoticedWithoutWaiting(t *testing.T) {
	cc := clusterConfig()
	cc.ReportInterval = time.Minute // the owner is never marked DOWN during the test
	h := newHarness(t, 3, testConfig(), cc)
	a, b := h.addrs[0], h.addrs[1]
	k := keyOwnedBy(t, b, h.addrs, "notice")
	if err := h.node(a).eng.Apply(context.Background(), registerOp(k, "10.1.0.1", 80)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, func() bool { return len(ips(h.node(a).cat, k)) == 1 })
	lastBeat := func() int64 {
		s, _ := h.node(b).cat.Service(k)
		return s.Lookup(naming.InstanceKey{IP: "10.1.0.1", Port: 80, Cluster: naming.DefaultCluster}).LastBeat()
	}
	before := lastBeat()

	// Held by a's copy: answered at once, applied by b soon after.
	light := naming.Op{Kind: naming.OpBeat, Service: k, Ephemeral: true,
		Target: naming.InstanceKey{IP: "10.1.0.1", Port: 80, Cluster: naming.DefaultCluster}}
	if err := h.node(a).eng.Apply(context.Background(), light); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, func() bool { return lastBeat() > before })
	if st := h.node(a).eng.Stats(); st.BeatNotices != 1 || st.Forwards != 2 {
		t.Fatalf("stats of the beating node: %+v", st)
	}

	// Not held: forwarded, and the owner's answer comes back.
	missing := light
	missing.Target.IP = "10.9.9.9"
	if err := h.node(a).eng.Apply(context.Background(), missing); !errors.Is(err, naming.ErrNotFound) {
		t.Fatalf("light beat of an unknown instance: %v, want not found", err)
	}

	// The owner unreachable: a held instance's beat is still answered at
	// once; a write that needs the owner's answer fails.
	h.net.Isolate(b)
	h.net.Blackhole(true)
	start := time.Now()
	if err := h.node(a).eng.Apply(context.Background(), light); err != nil {
		t.Fatalf("beat with the owner unreachable: %v", err)
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Fatalf("the beat waited %v for an unreachable owner", took)
	}
	if err := h.node(a).eng.Apply(context.Background(), registerOp(k, "10.1.0.2", 80)); !errors.Is(err, naming.ErrUnavailable) {
		t.Fatalf("register with the owner unreachable: %v", err)
	}
	waitFor(t, 5*time.Second, func() bool { return h.node(a).eng.Stats().BeatNoticesFailed == 1 })
	// Once a notice failed, beats wait for the owner again, so the client
	// sees the failure and turns to another node.
	if err := h.node(a).eng.Apply(context.Background(), light); !errors.Is(err, naming.ErrUnavailable) {
		t.Fatalf("beat after a failed notice, owner still unreachable: %v, want unavailable", err)
	}
	notices := h.node(a).eng.Stats().BeatNotices
	// Reachable again: the next beat waits and succeeds, the one after is
	// a notice again.
	h.net.Blackhole(false)
	h.net.Heal()
	waitFor(t, 5*time.Second, func() bool {
		return h.node(a).eng.Apply(context.Background(), light) == nil
	})
	if got := h.node(a).eng.Stats().BeatNotices; got != notices {
		t.Fatalf("a beat went as a notice before a message to the owner succeeded: %d notices, want %d", got, notices)
	}
	if err := h.node(a).eng.Apply(context.Background(), light); err != nil {
		t.Fatal(err)
	}
	if got := h.node(a).eng.Stats().BeatNotices; got != notices+1 {
		t.Fatalf("notices after the owner came back: %d, want %d", got, notices+1)
	}
}

// A beat answered at once by a copy travels as a light beat: delivered to
// a responsible node that does not hold the instance (it was deregistered
// there, the notice arriving late), it does not re-create it.
func TestBeatNoticeDoesNotRecreate(t *testing.T) {
	cc := clusterConfig()
	cc.ReportInterval = time.Minute
	cfg := testConfig()
	cfg.VerifyInterval = 20 * time.Minute // no repair during the test
	cfg.TombstoneTTL = time.Hour
	h := newHarness(t, 3, cfg, cc)
	x, y := h.addrs[0], h.addrs[1]
	k := keyOwnedBy(t, x, h.addrs, "late")
	rec := Record{Key: k, Instances: []*naming.Instance{inst("10.11.0.1", 80, time.Now().UnixMilli())}}
	if _, err := h.node(y).eng.mergeRecord(rec, false); err != nil { // y's copy, x without it
		t.Fatal(err)
	}
	if err := h.node(y).eng.Apply(context.Background(), beatOp(k, "10.11.0.1", 80)); err != nil {
		t.Fatalf("beat of an instance the copy holds: %v", err)
	}
	waitFor(t, 5*time.Second, func() bool { return h.node(y).eng.Stats().BeatNoticesFailed == 1 })
	if has(h.node(x), k, "10.11.0.1:80") {
		t.Fatal("a beat notice re-created an instance the responsible node did not hold")
	}
}
