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

// keyOwnedBy finds a service name whose owner among live is want.
func keyOwnedBy(t testing.TB, want string, live []string, prefix string) naming.ServiceKey {
	for i := range 10000 {
		k := svc(fmt.Sprintf("%s-%d", prefix, i))
		if Owner(k, live) == want {
			return k
		}
	}
	t.Fatalf("no key owned by %s", want)
	return naming.ServiceKey{}
}

func TestForwardedRegisterVisibleEverywhere(t *testing.T) {
	h := newHarness(t, 3, testConfig(), clusterConfig())
	a, b := h.addrs[0], h.addrs[1]
	k := keyOwnedBy(t, b, h.addrs, "fwd")
	if err := h.node(a).eng.Apply(context.Background(), registerOp(k, "10.1.0.1", 80)); err != nil {
		t.Fatal(err)
	}
	// The owner has it at once: the write was applied there before Apply returned.
	if got := ips(h.node(b).cat, k); !slices.Equal(got, []string{"10.1.0.1:80"}) {
		t.Fatalf("owner holds %v", got)
	}
	waitFor(t, 2*time.Second, func() bool {
		for _, nd := range h.running() {
			if !slices.Equal(ips(nd.cat, k), []string{"10.1.0.1:80"}) {
				return false
			}
		}
		return true
	})
	if st := h.node(a).eng.Stats(); st.Forwards != 1 || st.ForwardsFailed != 0 {
		t.Errorf("stats of the forwarding node: %+v", st)
	}
	if !h.node(b).eng.Owns(k) || h.node(a).eng.Owns(k) || h.node(a).eng.Owner(k) != b {
		t.Error("ownership disagrees with the rendezvous owner")
	}

	// A deregistration through a third node removes it everywhere.
	if err := h.node(h.addrs[2]).eng.Apply(context.Background(), deregisterOp(k, "10.1.0.1", 80)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, func() bool {
		for _, nd := range h.running() {
			if len(ips(nd.cat, k)) != 0 {
				return false
			}
		}
		return true
	})

	// Errors of the owner come back as they are.
	err := h.node(a).eng.Apply(context.Background(), naming.Op{Kind: naming.OpSetHealth, Service: k, Ephemeral: true,
		Target: naming.InstanceKey{IP: "10.9.9.9", Port: 1, Cluster: naming.DefaultCluster}})
	if !errors.Is(err, naming.ErrNotFound) {
		t.Fatalf("health of a missing instance: %v", err)
	}
}

func TestApplyRejectsBadOps(t *testing.T) {
	h := newHarness(t, 2, testConfig(), clusterConfig())
	e := h.node(h.addrs[0]).eng
	persistent := registerOp(svc("p"), "10.0.0.1", 80)
	persistent.Instance.Ephemeral = false
	bad := []naming.Op{
		persistent,
		{Kind: naming.OpCreateService, Service: svc("p"), Meta: &naming.ServiceMeta{}},
		{Kind: naming.OpReplaceEphemeral, Service: svc("p")},
		registerOp(svc("p"), "not-an-ip", 80),
		registerOp(naming.ServiceKey{}, "10.0.0.1", 80),
	}
	for _, op := range bad {
		if err := e.Apply(context.Background(), op); !errors.Is(err, naming.ErrInvalid) {
			t.Errorf("%s accepted or wrong error: %v", op.Kind, err)
		}
	}
	if st := e.Stats(); st.Forwards != 0 {
		t.Errorf("bad ops were forwarded: %+v", st)
	}
}

func TestForwardToUnreachableOwnerFailsFast(t *testing.T) {
	cc := clusterConfig()
	cc.ReportInterval = time.Minute // the owner is never marked DOWN during the test
	cfg := testConfig()
	h := newHarness(t, 3, cfg, cc)
	a, c := h.addrs[0], h.addrs[2]
	k := keyOwnedBy(t, c, h.addrs, "down")
	h.net.Isolate(c)
	for _, hang := range []bool{false, true} {
		h.net.Blackhole(hang)
		start := time.Now()
		err := h.node(a).eng.Apply(context.Background(), registerOp(k, "10.1.0.1", 80))
		took := time.Since(start)
		if !errors.Is(err, naming.ErrUnavailable) {
			t.Fatalf("blackhole=%v: error %v, want unavailable", hang, err)
		}
		if took > cfg.ForwardTimeout+time.Second {
			t.Fatalf("blackhole=%v: took %v, bound is %v", hang, took, cfg.ForwardTimeout)
		}
		t.Logf("blackhole=%v: failed after %v: %v", hang, took.Round(time.Millisecond), err)
	}
	if got := ips(h.node(a).cat, k); len(got) != 0 {
		t.Fatalf("failed write left data: %v", got)
	}
}

func TestViewMismatchRefused(t *testing.T) {
	h := newHarness(t, 2, testConfig(), clusterConfig())
	b := h.node(h.addrs[1])
	k := keyOwnedBy(t, b.addr, h.addrs, "hash")
	wrong := b.mem.Hash() + 1
	err := b.eng.OnForward(context.Background(), h.addrs[0], wrong, registerOp(k, "10.1.0.1", 80))
	if !errors.Is(err, naming.ErrUnavailable) {
		t.Fatalf("forward with another view: %v", err)
	}
	rec := Record{Key: k, Instances: []*naming.Instance{inst("10.1.0.2", 80, 5)}}
	if err := b.eng.OnSync(context.Background(), h.addrs[0], wrong, []Record{rec}); !errors.Is(err, naming.ErrUnavailable) {
		t.Fatalf("sync with another view: %v", err)
	}
	if _, err := b.eng.OnVerify(context.Background(), h.addrs[0], wrong, nil); !errors.Is(err, naming.ErrUnavailable) {
		t.Fatalf("verify with another view: %v", err)
	}
	if _, err := b.eng.Records(context.Background(), h.addrs[0], wrong, []naming.ServiceKey{k}); !errors.Is(err, naming.ErrUnavailable) {
		t.Fatalf("fetch with another view: %v", err)
	}
	if got := ips(b.cat, k); len(got) != 0 {
		t.Fatalf("refused messages changed the catalog: %v", got)
	}
	if st := b.eng.Stats(); st.Rejected != 4 {
		t.Errorf("rejected %d, want 4", st.Rejected)
	}
	// A node that does not own the key refuses a forward instead of passing it on.
	a := h.node(h.addrs[0])
	if err := a.eng.OnForward(context.Background(), b.addr, a.mem.Hash(), registerOp(k, "10.1.0.1", 80)); !errors.Is(err, naming.ErrUnavailable) {
		t.Fatalf("forward to a non-owner: %v", err)
	}
	if st := a.eng.Stats(); st.Forwards != 0 {
		t.Errorf("a forwarded op was forwarded again: %+v", st)
	}
}

func TestOwnerStampsAfterKnownVersions(t *testing.T) {
	v := fixedView{self: "10.0.0.1:8848", live: []string{"10.0.0.1:8848"}}
	cat := naming.NewCatalog()
	e, err := New(testConfig(), cat, v, NewNetwork(1).Transport(v.self), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	k := svc("skew")
	// A tombstone from a node whose clock ran ahead.
	future := time.Now().Add(time.Hour).UnixMilli()
	if _, err := e.mergeRecord(Record{Key: k, Tombstones: []Tombstone{tomb("10.1.0.1", 80, future)}}, false); err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(context.Background(), registerOp(k, "10.1.0.1", 80)); err != nil {
		t.Fatal(err)
	}
	s, _ := cat.Service(k)
	in := s.Find(naming.InstanceKey{IP: "10.1.0.1", Port: 80, Cluster: naming.DefaultCluster})
	if in == nil || in.Updated <= future {
		t.Fatalf("registration stamped %v, not after the tombstone %d", in, future)
	}
	rec := e.snapshot(k)
	if len(rec.Tombstones) != 0 || len(rec.Instances) != 1 {
		t.Fatalf("record %v", summary(rec))
	}
	// The old tombstone arriving again does not undo the acknowledged write.
	if _, err := e.mergeRecord(Record{Key: k, Tombstones: []Tombstone{tomb("10.1.0.1", 80, future)}}, false); err != nil {
		t.Fatal(err)
	}
	if got := ips(cat, k); !slices.Equal(got, []string{"10.1.0.1:80"}) {
		t.Fatalf("instance lost to an older tombstone: %v", got)
	}
	// Two writes in the same millisecond still get increasing versions.
	op := registerOp(k, "10.1.0.2", 80)
	op.Time = 1000
	e.Apply(context.Background(), op)
	op.Instance = inst("10.1.0.2", 80, 0)
	op.Instance.Weight = 7
	e.Apply(context.Background(), op)
	s, _ = cat.Service(k)
	if in := s.Find(op.Instance.Key()); in.Weight != 7 || in.Updated != 1001 {
		t.Fatalf("second write: weight %v updated %d", in.Weight, in.Updated)
	}
	// A deregistration of an instance this node never held still leaves a tombstone.
	e.Apply(context.Background(), deregisterOp(k, "10.1.0.3", 80))
	if e.tombs.get(k, naming.InstanceKey{IP: "10.1.0.3", Port: 80, Cluster: naming.DefaultCluster}) == 0 {
		t.Fatal("no tombstone for an unknown instance")
	}
	// One that ExpectBeat made a no-op does not.
	d := deregisterOp(k, "10.1.0.2", 80)
	d.ExpectBeat = 1
	e.Apply(context.Background(), d)
	if e.tombs.get(k, d.Target) != 0 || len(ips(cat, k)) != 2 {
		t.Fatal("a deregistration that did nothing left a tombstone")
	}
}

func TestOrphanDroppedAfterGrace(t *testing.T) {
	self, owner := "10.0.0.1:8848", "10.0.0.2:8848"
	v := fixedView{self: self, live: []string{self, owner}}
	cat := naming.NewCatalog()
	cfg := testConfig()
	e, err := New(cfg, cat, v, NewNetwork(1).Transport(self), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	k := keyOwnedBy(t, owner, v.live, "orphan")
	listed := keyOwnedBy(t, owner, v.live, "listed")
	for _, key := range []naming.ServiceKey{k, listed} {
		if _, err := e.mergeRecord(Record{Key: key, Instances: []*naming.Instance{inst("10.1.0.1", 80, 5)}}, false); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := cat.Service(listed)
	sums := map[naming.ServiceKey]string{listed: s.EphemeralChecksum}
	// The owner's fetches fail: however many rounds pass, the copy stays.
	for round := 1; round <= 3*cfg.OrphanGrace; round++ {
		if diff, err := e.OnVerify(context.Background(), owner, v.Hash(), sums); err != nil || !slices.Equal(diff, []naming.ServiceKey{k}) {
			t.Fatalf("round %d without fetches: diff %v, err %v", round, diff, err)
		}
	}
	if len(ips(cat, k)) != 1 {
		t.Fatal("a copy was dropped while its owner never fetched it")
	}
	// The owner fetches it every round and still does not list it.
	for round := 1; round <= cfg.OrphanGrace; round++ {
		if _, err := e.Records(context.Background(), owner, v.Hash(), []naming.ServiceKey{k}); err != nil {
			t.Fatal(err)
		}
		diff, err := e.OnVerify(context.Background(), owner, v.Hash(), sums)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(diff, []naming.ServiceKey{k}) {
			t.Fatalf("round %d: diff %v, want the unlisted key so the owner fetches it", round, diff)
		}
	}
	if _, err := e.Records(context.Background(), owner, v.Hash(), []naming.ServiceKey{k}); err != nil {
		t.Fatal(err)
	}
	if len(ips(cat, k)) != 1 {
		t.Fatal("dropped before the grace ran out")
	}
	diff, err := e.OnVerify(context.Background(), owner, v.Hash(), sums)
	if err != nil || len(diff) != 0 {
		t.Fatalf("after grace: diff %v, err %v", diff, err)
	}
	if len(ips(cat, k)) != 0 || len(ips(cat, listed)) != 1 {
		t.Fatalf("after grace: orphan %v, listed %v", ips(cat, k), ips(cat, listed))
	}
	if e.Stats().OrphansRemoved != 1 {
		t.Errorf("stats %+v", e.Stats())
	}
}

func TestUnknownSenderRefused(t *testing.T) {
	h := newHarness(t, 2, testConfig(), clusterConfig())
	b := h.node(h.addrs[1])
	k := keyOwnedBy(t, b.addr, h.addrs, "stranger")
	// Same view, but the sender names itself differently from the member list.
	err := b.eng.OnForward(context.Background(), "node-a.example:8848", b.mem.Hash(), registerOp(k, "10.1.0.1", 80))
	if !errors.Is(err, naming.ErrForbidden) {
		t.Fatalf("forward from an unknown name: %v", err)
	}
	if len(ips(b.cat, k)) != 0 {
		t.Fatal("refused forward applied")
	}
}
