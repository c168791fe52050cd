package distro

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"sync"
	"testing"
	"time"

	"sextant/naming"
)

// mergeWhole is the reference merge: the two whole records merged by
// Merge, pruned, and the resulting ephemeral set applied whole.
func mergeWhole(e *Engine, rec Record) error {
	key := rec.Key
	local := e.record(key)
	now := e.nowMs()
	merged := prune(Merge(local, rec), now-e.cfg.TombstoneTTL.Milliseconds())
	if !sameInstances(local.Instances, merged.Instances) {
		op := naming.Op{Kind: naming.OpReplaceEphemeral, Time: now, Service: key, Instances: merged.Instances}
		if err := e.cat.Apply(op); err != nil {
			return err
		}
	}
	e.tombs.replace(key, merged.Tombstones)
	return nil
}

// contents renders a node's ephemeral instances (every replicated field)
// and its tombstones not older than horizon.
func contents(e *Engine, k naming.ServiceKey, horizon int64) []string {
	var out []string
	s, _ := e.cat.View(k)
	for _, in := range ephemeralOf(s) {
		out = append(out, string(canonical(in)))
	}
	for _, t := range e.tombs.list(k) {
		if t.Time >= horizon {
			out = append(out, "-"+t.Instance.Addr()+"@"+itoa(t.Time))
		}
	}
	return out
}

// TestMergeRecordMatchesWholeMerge checks the per-instance merge against
// the reference on random local states and random received records, whole
// or partial (deltas), with ties, tombstones and tombstones past the TTL.
func TestMergeRecordMatchesWholeMerge(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	k := svc("equiv")
	const now = 10_000_000
	clock := func() time.Time { return time.UnixMilli(now) }
	cfg := testConfig()
	horizon := int64(now) - cfg.TombstoneTTL.Milliseconds()
	// draw makes a record whose times are near now, or far in the past.
	draw := func(ancient bool) Record {
		r := randomRecord(rng, k)
		base := int64(now - 100)
		if ancient && rng.Intn(2) == 0 {
			base = horizon - 100
		}
		for _, in := range r.Instances {
			in.Updated += base
		}
		for i := range r.Tombstones {
			r.Tombstones[i].Time += base
		}
		return r
	}
	for i := range 3000 {
		var es [2]*Engine
		for j := range es {
			v := fixedView{self: "10.0.0.1:8848", live: []string{"10.0.0.1:8848"}}
			e, err := New(cfg, naming.NewCatalog(), v, NewNetwork(1).Transport(v.self), quietLog())
			if err != nil {
				t.Fatal(err)
			}
			e.now = clock
			es[j] = e
		}
		setup, rec := draw(false), draw(true)
		for _, step := range []Record{setup, rec} {
			if _, err := es[0].mergeRecord(step, false); err != nil {
				t.Fatal(err)
			}
			if err := mergeWhole(es[1], step); err != nil {
				t.Fatal(err)
			}
		}
		got, want := contents(es[0], k, horizon), contents(es[1], k, horizon)
		if !slices.Equal(got, want) {
			t.Fatalf("#%d: setup %v, then %v:\n per-instance merge %q\n whole merge        %q", i, summary(setup), summary(rec), got, want)
		}
	}
}

func TestChangesOverflowToWhole(t *testing.T) {
	var c changes
	for i := range MaxDeltaKeys {
		c.addKey(naming.InstanceKey{IP: fmt.Sprintf("10.3.%d.%d", i/256, i%256), Port: 80, Cluster: naming.DefaultCluster})
	}
	if c.full || len(c.keys) != MaxDeltaKeys {
		t.Fatalf("full=%v with %d keys", c.full, len(c.keys))
	}
	c.addKey(naming.InstanceKey{IP: "10.4.0.1", Port: 80, Cluster: naming.DefaultCluster})
	if !c.full || c.keys != nil {
		t.Fatalf("past the bound: full=%v, %d keys kept", c.full, len(c.keys))
	}
	var d changes
	d.addKey(naming.InstanceKey{IP: "10.4.0.2", Port: 80, Cluster: naming.DefaultCluster})
	d.addAll(&c)
	if !d.full {
		t.Fatal("adding a whole record's changes did not make the entry whole")
	}
}

// recorder wraps a transport and keeps the records each sync carried
// (kept before delivery, so a record is known once the peer applied it).
type recorder struct {
	Transport
	mu    sync.Mutex
	syncs [][]Record
}

func (r *recorder) Sync(ctx context.Context, peer string, hash uint64, recs []Record) error {
	r.mu.Lock()
	r.syncs = append(r.syncs, recs)
	r.mu.Unlock()
	return r.Transport.Sync(ctx, peer, hash, recs)
}

// last returns the last record of k that a sync delivered.
func (r *recorder) last(k naming.ServiceKey) (Record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.syncs) - 1; i >= 0; i-- {
		for _, rec := range r.syncs[i] {
			if rec.Key == k {
				return rec, true
			}
		}
	}
	return Record{}, false
}

// pair runs two engines over a memnet with fixed views; a's transport is
// recorded.
func pair(t *testing.T, cfg Config) (a, b *Engine, rec *recorder) {
	t.Helper()
	net := NewNetwork(1)
	live := []string{"10.0.0.1:8848", "10.0.0.2:8848"}
	rec = &recorder{Transport: net.Transport(live[0])}
	es := startEngines(t, cfg, net, []View{fixedView{self: live[0], live: live}, fixedView{self: live[1], live: live}},
		func(self string) Transport {
			if self == live[0] {
				return rec
			}
			return net.Transport(self)
		})
	return es[0], es[1], rec
}

// startEngines starts an engine for each view over net, each with a
// catalog of its own and the transport transport gives its address, and
// then loads them all.
func startEngines(t *testing.T, cfg Config, net *Network, views []View, transport func(self string) Transport) []*Engine {
	t.Helper()
	var es []*Engine
	for _, v := range views {
		e, err := New(cfg, naming.NewCatalog(), v, transport(v.Self()), testLog(t))
		if err != nil {
			t.Fatal(err)
		}
		net.Register(v.Self(), e)
		es = append(es, e)
	}
	for _, e := range es {
		if err := e.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
	}
	for _, e := range es {
		if err := e.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return es
}

// TestSyncSendsOnlyChanges: once a peer holds a service, a change travels
// as the changed instance or tombstone alone, and the peer ends up with the
// owner's set.
func TestSyncSendsOnlyChanges(t *testing.T) {
	cfg := testConfig()
	cfg.VerifyInterval = time.Hour // only sync moves data
	cfg.TombstoneTTL = 3 * time.Hour
	a, b, rec := pair(t, cfg)
	// Load asks for one early verify round; let it pass before writing.
	waitFor(t, 3*time.Second, func() bool { return a.Stats().VerifyRounds >= 1 })
	k := keyOwnedBy(t, a.self, []string{a.self, b.self}, "delta")
	var want []string
	for i := range 40 {
		ip := fmt.Sprintf("10.5.0.%d", i+1)
		if err := a.Apply(context.Background(), registerOp(k, ip, 80)); err != nil {
			t.Fatal(err)
		}
		want = append(want, ip+":80")
	}
	slices.Sort(want)
	waitFor(t, 3*time.Second, func() bool { return slices.Equal(ips(b.cat.(*naming.Catalog), k), want) })

	up := registerOp(k, "10.5.0.7", 80)
	up.Instance.Weight = 5
	if err := a.Apply(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, func() bool {
		s, _ := b.cat.View(k)
		in := s.Lookup(up.Instance.Key())
		return in != nil && in.Weight == 5
	})
	if r, _ := rec.last(k); len(r.Instances) != 1 || len(r.Tombstones) != 0 || r.Instances[0].Weight != 5 {
		t.Fatalf("an update of one instance sent %v", summary(r))
	}
	if err := a.Apply(context.Background(), deregisterOp(k, "10.5.0.9", 80)); err != nil {
		t.Fatal(err)
	}
	want = slices.DeleteFunc(want, func(s string) bool { return s == "10.5.0.9:80" })
	waitFor(t, 3*time.Second, func() bool { return slices.Equal(ips(b.cat.(*naming.Catalog), k), want) })
	if r, _ := rec.last(k); len(r.Instances) != 0 || len(r.Tombstones) != 1 {
		t.Fatalf("a deregistration sent %v", summary(r))
	}
	if b.tombs.get(k, naming.InstanceKey{IP: "10.5.0.9", Port: 80, Cluster: naming.DefaultCluster}) == 0 {
		t.Fatal("the peer has no tombstone for the deregistration")
	}
	if sa, sb := sumOf(mustService(a, k)), sumOf(mustService(b, k)); sa != sb {
		t.Fatalf("checksums differ: %s %s", sa, sb)
	}
	if st := a.Stats(); st.SyncDeltas == 0 || st.SyncDeltas != st.SyncRecords {
		t.Fatalf("sync stats %+v: every record should have been a delta", st)
	}
}

func mustService(e *Engine, k naming.ServiceKey) *naming.Service {
	s, _ := e.cat.View(k)
	return s
}

// TestVerifyRepairsUnderConstantWrites: a copy that lost an instance is
// repaired by verify even while new writes to the same service keep its
// sync queue busy.
func TestVerifyRepairsUnderConstantWrites(t *testing.T) {
	h := newHarness(t, 3, testConfig(), clusterConfig())
	owner, peer := h.node(h.addrs[0]), h.node(h.addrs[1])
	k := keyOwnedBy(t, owner.addr, h.addrs, "busy")
	if err := owner.eng.Apply(context.Background(), registerOp(k, "10.6.0.1", 80)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, func() bool { return len(ips(peer.cat, k)) == 1 })
	// The peer loses its copy without a tombstone (as after a restart that
	// missed the sync); only verify can bring it back.
	if err := peer.cat.Apply(naming.Op{Kind: naming.OpReplaceEphemeral, Time: 1, Service: k}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 10000; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			owner.eng.Apply(context.Background(), registerOp(k, fmt.Sprintf("10.6.%d.%d", 1+i/250, 2+i%250), 80))
		}
	}()
	defer func() { close(stop); <-done }()
	waitFor(t, 5*time.Second, func() bool { return slices.Contains(ips(peer.cat, k), "10.6.0.1:80") })
}

// TestForwardsShareMessages: writes forwarded at the same time travel
// together, and each caller gets the responsible node's answer to its own
// write.
func TestForwardsShareMessages(t *testing.T) {
	h := newHarness(t, 3, testConfig(), clusterConfig())
	from, to := h.node(h.addrs[0]), h.node(h.addrs[1])
	h.net.Delay(20 * time.Millisecond)
	var keys []naming.ServiceKey
	for i := range 8 {
		keys = append(keys, keyOwnedBy(t, to.addr, h.addrs, fmt.Sprintf("batch%d", i)))
	}
	const n = 120
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := keys[i%len(keys)]
			op := registerOp(k, fmt.Sprintf("10.7.0.%d", i+1), 80)
			if i%10 == 0 { // an update of a missing instance: the owner says not found
				op = naming.Op{Kind: naming.OpUpdateInstance, Service: k, Ephemeral: true,
					Target: naming.InstanceKey{IP: "10.7.9.9", Port: 1, Cluster: naming.DefaultCluster}, Patch: &naming.InstancePatch{}}
			}
			errs[i] = from.eng.Apply(context.Background(), op)
		}()
	}
	wg.Wait()
	registered := 0
	for i, err := range errs {
		switch {
		case i%10 == 0 && !errors.Is(err, naming.ErrNotFound):
			t.Fatalf("write %d: %v, want not found", i, err)
		case i%10 != 0 && err != nil:
			t.Fatalf("write %d: %v", i, err)
		case i%10 != 0:
			registered++
		}
	}
	held := 0
	for _, k := range keys {
		held += len(ips(to.cat, k))
	}
	if held != registered {
		t.Fatalf("owner holds %d instances, %d were acknowledged", held, registered)
	}
	st := from.eng.Stats()
	if st.Forwards != n || st.ForwardBatches >= n/4 {
		t.Fatalf("%d forwards in %d messages", st.Forwards, st.ForwardBatches)
	}
	t.Logf("%d forwards in %d messages", st.Forwards, st.ForwardBatches)
}

// TestForwardsToSilentOwnerFailFast: writes queued for an owner that does
// not answer all fail with ErrUnavailable within ForwardTimeout, and none
// is applied anywhere.
func TestForwardsToSilentOwnerFailFast(t *testing.T) {
	cc := clusterConfig()
	cc.ReportInterval = time.Minute
	cfg := testConfig()
	h := newHarness(t, 3, cfg, cc)
	a, c := h.addrs[0], h.addrs[2]
	k := keyOwnedBy(t, c, h.addrs, "silent")
	h.net.Isolate(c)
	h.net.Blackhole(true)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 30)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = h.node(a).eng.Apply(context.Background(), registerOp(k, fmt.Sprintf("10.8.0.%d", i+1), 80))
		}()
	}
	wg.Wait()
	if took := time.Since(start); took > 2*cfg.ForwardTimeout+time.Second {
		t.Fatalf("took %v, bound is %v", took, cfg.ForwardTimeout)
	}
	for i, err := range errs {
		if !errors.Is(err, naming.ErrUnavailable) {
			t.Fatalf("write %d: %v, want unavailable", i, err)
		}
	}
	if got := ips(h.node(a).cat, k); len(got) != 0 {
		t.Fatalf("failed writes left data: %v", got)
	}
}

// TestSyncSplitsLargeBatches: records past MaxSyncEntries go in further
// messages, and a single larger record goes alone.
func TestSyncSplitsLargeBatches(t *testing.T) {
	cfg := testConfig()
	cfg.VerifyInterval = time.Hour
	cfg.TombstoneTTL = 3 * time.Hour
	a, b, rec := pair(t, cfg)
	now := time.Now().UnixMilli()
	tombs := func(name string, n int) Record {
		r := Record{Key: svc(name)}
		for i := range n {
			r.Tombstones = append(r.Tombstones, Tombstone{Instance: naming.InstanceKey{IP: fmt.Sprintf("10.9.%d.%d", i/250, i%250), Port: 80, Cluster: naming.DefaultCluster}, Time: now})
		}
		return r
	}
	recs := []Record{tombs("x1", MaxSyncEntries/2), tombs("x2", MaxSyncEntries/2), tombs("x3", 10), tombs("x4", MaxSyncEntries+5)}
	rec.mu.Lock()
	rec.syncs = nil
	rec.mu.Unlock()
	if err := a.sendRecords(b.self, a.view.Hash(), recs); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var sizes []int
	for _, m := range rec.syncs {
		sizes = append(sizes, len(m))
	}
	if !slices.Equal(sizes, []int{2, 1, 1}) {
		t.Fatalf("messages of %v records, want [2 1 1]", sizes)
	}
	if got := len(b.tombs.list(svc("x1"))); got != MaxSyncEntries/2 {
		t.Fatalf("the peer holds %d tombstones of the first record", got)
	}
}
