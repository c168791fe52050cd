package httpfront

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"sextant/naming"
)

// listJSON is the instance/list body without lastRefTime, encoded whole:
// the encoding the list renderer must match byte for byte.
type listJSON struct {
	Name                     string            `json:"name"`
	Dom                      string            `json:"dom"`
	Clusters                 string            `json:"clusters"`
	CacheMillis              int64             `json:"cacheMillis"`
	Hosts                    []hostJSON        `json:"hosts"`
	Checksum                 string            `json:"checksum"`
	UseSpecifiedURL          bool              `json:"useSpecifiedURL"`
	Env                      string            `json:"env"`
	Metadata                 map[string]string `json:"metadata"`
	ReachProtectionThreshold bool              `json:"reachProtectionThreshold"`
	AllIPs                   bool              `json:"allIPs"`
	Valid                    bool              `json:"valid"`
}

// referenceListHead encodes the list of svc for v with one json.Marshal of
// the whole body, up to and including `"lastRefTime":`.
func referenceListHead(svc *naming.Service, v listView) []byte {
	bare := v.key.Name
	if v.flavour == flavourGrouped {
		bare = v.key.Grouped()
	}
	body := listJSON{
		Name: v.key.Grouped(), Dom: bare, Clusters: v.clusters, CacheMillis: v.cacheMillis,
		Hosts: []hostJSON{}, Env: v.env, Metadata: map[string]string{}, Valid: true,
	}
	if svc != nil {
		sel := svc.Select(clusterList(v.clusters), v.healthyOnly)
		for _, in := range sel.Instances {
			body.Hosts = append(body.Hosts, hostOf(in, v.key, bare, in.Healthy || sel.Protected))
		}
		body.ReachProtectionThreshold = sel.Protected
		body.Checksum = svc.Checksum
		body.Metadata = emptyIfNil(svc.Meta.Metadata)
	}
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	return append(b[:len(b)-1], `,"lastRefTime":`...)
}

// renderFresh renders the list of svc for v without any kept fragment.
func renderFresh(svc *naming.Service, v listView) []byte {
	return renderList(svc, v, func(s *naming.Service, k fragKey) *fragSet { return buildFrags(nil, s, k) })
}

// odd are strings encoding/json escapes or spells out in some way.
var odd = []string{"", "a", "<b>&amp;", `quo"te`, `back\slash`, "tab\there", "\x01ctl", "é ü 日本", "\u2028\u2029", "zone", "1.2.3",
	"5000", "-3", "99999999999", "\xff\xfebad utf-8", "a\x7fdel", naming.MetaBeatInterval, naming.MetaBeatTimeout, naming.MetaDeleteTimeout}

// TestAppendHostMatchesEncodingJSON encodes random instances, with
// random bytes in every string and numbers of every spelling, both ways.
func TestAppendHostMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 2))
	str := func() string {
		if r.IntN(3) == 0 {
			return odd[r.IntN(len(odd))]
		}
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	floats := []float64{0, math.Copysign(0, -1), 1, 0.1, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 123456.789, 1.0 / 3, -2.5, 5e-324}
	for i := 0; i < 5000; i++ {
		in := &naming.Instance{IP: str(), Port: r.IntN(70000) - 100, Weight: floats[r.IntN(len(floats))],
			Healthy: r.IntN(2) == 0, Enabled: r.IntN(2) == 0, Ephemeral: r.IntN(2) == 0, Cluster: str()}
		if r.IntN(4) > 0 {
			in.Metadata = map[string]string{}
			for k := r.IntN(5); k > 0; k-- {
				in.Metadata[str()] = str()
			}
		}
		name, healthy := str(), r.IntN(2) == 0
		key := naming.ServiceKey{Namespace: str(), Group: str(), Name: str()}
		want, err := json.Marshal(hostOf(in, key, name, healthy))
		if err != nil {
			t.Fatal(err)
		}
		if got := appendHost(nil, in, key, name, healthy); !bytes.Equal(got, want) {
			t.Fatalf("instance %+v:\ngot  %s\nwant %s", in, got, want)
		}
	}
}

// randomOp is one random change to the service key: a registration (new
// or over an existing address), a health flip, a patch, a deregistration or
// a change of the service's definition.
func randomOp(r *rand.Rand, key naming.ServiceKey, t int64) naming.Op {
	ip := fmt.Sprintf("10.0.%d.%d", r.IntN(2), r.IntN(40)+1)
	port := 8080 + r.IntN(2)
	cluster := []string{naming.DefaultCluster, "a", "b-1"}[r.IntN(3)]
	target := naming.InstanceKey{IP: ip, Port: port, Cluster: cluster}
	md := func() map[string]string {
		m := map[string]string{}
		for i := r.IntN(4); i > 0; i-- {
			m[odd[r.IntN(len(odd))]] = odd[r.IntN(len(odd))]
		}
		return m
	}
	weights := []float64{0, 0.5, 1, 1e-7, 3.14159, 100, 10000, 1.0 / 3}
	switch r.IntN(6) {
	case 0, 1:
		return naming.Op{Kind: naming.OpRegister, Time: t, Service: key, Instance: &naming.Instance{
			IP: ip, Port: port, Cluster: cluster, Weight: weights[r.IntN(len(weights))],
			Healthy: r.IntN(4) > 0, Enabled: r.IntN(5) > 0, Ephemeral: r.IntN(2) == 0, Metadata: md()}}
	case 2:
		return naming.Op{Kind: naming.OpSetHealth, Time: t, Service: key, Target: target, Healthy: r.IntN(2) == 0}
	case 3:
		w := weights[r.IntN(len(weights))]
		return naming.Op{Kind: naming.OpUpdateInstance, Time: t, Service: key, Target: target,
			Patch: &naming.InstancePatch{Weight: &w, Metadata: md()}}
	case 4:
		return naming.Op{Kind: naming.OpDeregister, Time: t, Service: key, Target: target}
	}
	return naming.Op{Kind: naming.OpUpdateService, Time: t, Service: key,
		Meta: &naming.ServiceMeta{ProtectThreshold: []float64{0, 0.5, 0.9}[r.IntN(3)], Metadata: md()}}
}

// randomView is a random request for the list of key.
func randomView(r *rand.Rand, key naming.ServiceKey) listView {
	return listView{
		key:         key,
		clusters:    []string{"", "a", "a, b-1", naming.DefaultCluster, "none", "<x>"}[r.IntN(6)],
		env:         odd[r.IntN(len(odd))],
		healthyOnly: r.IntN(2) == 0,
		flavour:     flavour(r.IntN(2)),
		cacheMillis: []int64{0, 3000, 10000}[r.IntN(3)],
	}
}

// TestListBodyMatchesWholeEncoding changes random services at random and
// after every change compares the lists the cache serves (from kept
// fragments) and a fresh rendering with encoding the whole body at once.
func TestListBodyMatchesWholeEncoding(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		r := rand.New(rand.NewPCG(seed, 20))
		c := naming.NewCatalog()
		keys := []naming.ServiceKey{
			naming.NewServiceKey("", "", "demo"),
			naming.NewServiceKey("ns-1", "g<&>", "svc \"q\""),
		}
		for _, k := range keys {
			if err := c.Apply(naming.Op{Kind: naming.OpCreateService, Time: 1, Service: k,
				Meta: &naming.ServiceMeta{Metadata: map[string]string{"owner": "<t&t>"}}}); err != nil {
				t.Fatal(err)
			}
		}
		lc := newListCache(8, 1<<20) // few views: evictions too
		for step := 0; step < 300; step++ {
			key := keys[r.IntN(len(keys))]
			_ = c.Apply(randomOp(r, key, int64(step+2))) // a refused op changes nothing
			svc, _ := c.Service(key)
			for i := 0; i < 3; i++ {
				v := randomView(r, key)
				want := referenceListHead(svc, v)
				if got := lc.get(svc, v).head; !bytes.Equal(got, want) {
					t.Fatalf("seed %d step %d view %+v:\ncached %s\nwant   %s", seed, step, v, got, want)
				}
				if got := renderFresh(svc, v); !bytes.Equal(got, want) {
					t.Fatalf("seed %d step %d view %+v:\nfresh %s\nwant  %s", seed, step, v, got, want)
				}
			}
			checkBytes(t, lc)
		}
		var unknown *naming.Service
		v := randomView(r, keys[0])
		if got, want := lc.get(unknown, v).head, referenceListHead(unknown, v); !bytes.Equal(got, want) {
			t.Fatalf("unknown service:\ngot  %s\nwant %s", got, want)
		}
	}
}

// TestListRenderReencodesOnlyTheChange renders a service, changes one
// instance and renders again: every other host's encoding is the one
// kept from the first rendering.
func TestListRenderReencodesOnlyTheChange(t *testing.T) {
	c := naming.NewCatalog()
	ins := make([]*naming.Instance, 50)
	for i := range ins {
		ins[i] = largeInstance(i)
	}
	if err := c.Apply(naming.Op{Kind: naming.OpMergeEphemeral, Time: 1, Service: demo, Instances: ins}); err != nil {
		t.Fatal(err)
	}
	lc := newListCache(16, 1<<20)
	v := listView{key: demo}
	before, _ := c.Service(demo)
	lc.get(before, v)
	k := fragKey{key: demo}
	first := lc.frags[k]
	if first == nil || !first.covers(before.Instances) {
		t.Fatal("no fragments kept for the rendered view")
	}
	if err := c.Apply(naming.Op{Kind: naming.OpSetHealth, Time: 2, Service: demo, Ephemeral: true,
		Target: ins[7].Key(), Healthy: false}); err != nil {
		t.Fatal(err)
	}
	after, _ := c.Service(demo)
	if got, want := lc.get(after, v).head, referenceListHead(after, v); !bytes.Equal(got, want) {
		t.Fatalf("after the change:\ngot  %s\nwant %s", got, want)
	}
	second := lc.frags[k]
	if second == nil || !second.covers(after.Instances) {
		t.Fatal("no fragments kept for the changed view")
	}
	var fresh []string
	for i := range second.frags {
		if &second.frags[i][0] != &first.frags[i][0] {
			fresh = append(fresh, second.ins[i].IP)
		}
	}
	if len(fresh) != 1 || fresh[0] != ins[7].IP {
		t.Fatalf("re-encoded hosts %v, want only %s", fresh, ins[7].IP)
	}
}

// TestListMissesShareOneRender sends concurrent requests for the same view
// right after a change: one of them encodes the body, the others wait for
// it and get the same bytes.
func TestListMissesShareOneRender(t *testing.T) {
	const n = 16
	e := newEnv(t)
	svc := e.service(withInstances(e, "demo", 20))
	v := listView{key: demo, cacheMillis: 3000}
	lc := newListCache(16, 1<<20)
	fk := flightKey{v: v, rev: svc.Revision}
	renders := holdFirstRender(lc, fk, n-1, func() {})
	bodies := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i] = lc.get(svc, v).head
		}()
	}
	wg.Wait()
	if renders() != 1 {
		t.Fatalf("%d concurrent misses encoded the body %d times, want once", n, renders())
	}
	want := referenceListHead(svc, v)
	for i, b := range bodies {
		if !bytes.Equal(b, want) {
			t.Fatalf("request %d got %s, want %s", i, b, want)
		}
	}
	if lc.waiting(fk) != -1 {
		t.Fatal("the flight outlived its encoding")
	}
	// A later request hits the stored body.
	if lc.get(svc, v); renders() != 1 {
		t.Fatal("the shared body was not kept")
	}
}

// holdFirstRender makes the first encoding of lc wait (10 s at the most)
// until waiters requests wait for its flight fk, then call then; it
// returns the count of encodings begun.
func holdFirstRender(lc *listCache, fk flightKey, waiters int, then func()) (renders func() int) {
	var mu sync.Mutex
	n := 0
	lc.onRender = func(listView) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if !first {
			return
		}
		deadline := time.Now().Add(10 * time.Second)
		for lc.waiting(fk) < waiters && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		then()
	}
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// waiting returns how many requests wait for the flight fk, -1 when
// there is none.
func (lc *listCache) waiting(fk flightKey) int {
	lc.mu.RLock()
	defer lc.mu.RUnlock()
	if f := lc.flights[fk]; f != nil {
		return f.waiters
	}
	return -1
}

// TestListMissWaitersSurviveAPanickingRender makes the shared encoding
// panic: the requests that waited for it encode the body themselves.
func TestListMissWaitersSurviveAPanickingRender(t *testing.T) {
	e := newEnv(t)
	svc := e.service(withInstances(e, "demo", 3))
	v := listView{key: demo}
	lc := newListCache(16, 1<<20)
	fk := flightKey{v: v, rev: svc.Revision}
	holdFirstRender(lc, fk, 1, func() { panic("encoding failed") })
	leader := make(chan any, 1)
	go func() {
		defer func() { leader <- recover() }()
		lc.get(svc, v)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for lc.waiting(fk) < 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	got := lc.get(svc, v).head
	if p := <-leader; p != "encoding failed" {
		t.Fatalf("the first request recovered %v", p)
	}
	if want := referenceListHead(svc, v); !bytes.Equal(got, want) {
		t.Fatalf("the waiting request got %s, want %s", got, want)
	}
	if lc.waiting(fk) != -1 || cached(lc, v) {
		t.Fatal("a failed flight left state behind")
	}
}
