package httpfront

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"sextant/naming"
)

// checkBytes fails unless the cache's byte count is the sum of its entries
// and fragment sets
// and within its bound.
func checkBytes(t *testing.T, lc *listCache) {
	t.Helper()
	lc.mu.RLock()
	defer lc.mu.RUnlock()
	var sum int64
	for v, e := range lc.m {
		sum += entrySize(v, e.body)
	}
	for _, fs := range lc.frags {
		sum += fs.size
	}
	if sum != lc.bytes {
		t.Fatalf("cache counts %d bytes, its entries hold %d", lc.bytes, sum)
	}
	if lc.bytes > lc.maxBytes {
		t.Fatalf("cache holds %d bytes, bound is %d", lc.bytes, lc.maxBytes)
	}
	if len(lc.m) > lc.max {
		t.Fatalf("cache holds %d views, bound is %d", len(lc.m), lc.max)
	}
}

// cached reports whether v is in the cache.
func cached(lc *listCache, v listView) bool {
	lc.mu.RLock()
	defer lc.mu.RUnlock()
	_, ok := lc.m[v]
	return ok
}

// withInstances registers n instances in a service named name and returns
// its key.
func withInstances(e *env, name string, n int) naming.ServiceKey {
	key := naming.NewServiceKey("", "", name)
	for i := 0; i < n; i++ {
		e.register(key, healthyInstance("10.1."+strconv.Itoa(i/250)+"."+strconv.Itoa(i%250+1), 8080))
	}
	return key
}

func TestListCacheNeverExceedsByteBound(t *testing.T) {
	e := newEnv(t)
	var keys []naming.ServiceKey
	for s := 0; s < 20; s++ {
		keys = append(keys, withInstances(e, fmt.Sprintf("svc-%d", s), s+1))
	}
	const bound = 4096
	lc := newListCache(1000, bound)
	views := 0
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 3; round++ {
				for i, key := range keys {
					svc := e.service(key)
					v := listView{key: key, clusters: strings.Repeat("c", g), healthyOnly: i%2 == 0, cacheMillis: 3000}
					got := lc.get(svc, v).head
					if want := referenceListHead(svc, v); !bytes.Equal(got, want) {
						errs <- fmt.Sprintf("view %+v: cached body differs from a fresh encoding", v)
						return
					}
				}
			}
		}()
		views += len(keys)
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Fatal(msg)
	}
	checkBytes(t, lc)
	if len(lc.m) >= views {
		t.Fatalf("all %d views kept in %d bytes: the byte bound evicted nothing", views, lc.bytes)
	}
	if lc.bytes == 0 {
		t.Fatal("nothing kept")
	}
	// One at a time, the bound holds after every store.
	for i, key := range keys {
		lc.get(e.service(key), listView{key: key, env: strconv.Itoa(i)})
		checkBytes(t, lc)
	}
}

func TestListCacheReencodesEvictedBody(t *testing.T) {
	e := newEnv(t)
	a := withInstances(e, "a", 3)
	b := withInstances(e, "b", 3)
	va, vb := listView{key: a, cacheMillis: 3000}, listView{key: b, cacheMillis: 3000}
	first := referenceListHead(e.service(a), va)
	// Room for one of the two bodies only.
	lc := newListCache(10, entrySize(va, newListBody(first))+8)

	h1 := lc.get(e.service(a), va)
	if !cached(lc, va) {
		t.Fatal("a body within the bound was not kept")
	}
	lc.get(e.service(b), vb)
	if cached(lc, va) || !cached(lc, vb) {
		t.Fatal("storing b did not evict a")
	}
	checkBytes(t, lc)
	h2 := lc.get(e.service(a), va)
	if !bytes.Equal(h2.head, first) || !bytes.Equal(h2.head, h1.head) {
		t.Fatalf("evicted body re-encoded as %q, want %q", h2.head, first)
	}
	if &h2.head[0] == &h1.head[0] {
		t.Fatal("evicted body was not re-encoded")
	}
	if !cached(lc, va) || cached(lc, vb) {
		t.Fatal("the re-encoded body did not replace b")
	}
	checkBytes(t, lc)
}

func TestListCacheKeepsNoOversizedBody(t *testing.T) {
	e := newEnv(t)
	small := withInstances(e, "small", 1)
	big := withInstances(e, "big", 1)
	vs, vb := listView{key: small}, listView{key: big}
	lc := newListCache(10, 2048)
	lc.get(e.service(small), vs)
	lc.get(e.service(big), vb)
	if !cached(lc, vb) {
		t.Fatal("a small body was not kept")
	}
	withInstances(e, "big", 60) // the list outgrows the bound
	svc := e.service(big)
	got := lc.get(svc, vb)
	if want := referenceListHead(svc, vb); !bytes.Equal(got.head, want) {
		t.Fatal("an oversized body is not served as encoded")
	}
	if len(got.head) <= 2048 {
		t.Fatalf("test body is %d bytes, not above the bound", len(got.head))
	}
	if cached(lc, vb) {
		t.Fatal("a body bigger than the bound was kept (or its old revision left behind)")
	}
	if !cached(lc, vs) {
		t.Fatal("an oversized body evicted another view")
	}
	checkBytes(t, lc)
	if again := lc.get(svc, vb); !bytes.Equal(again.head, got.head) || &again.head[0] == &got.head[0] {
		t.Fatal("an oversized body is not encoded afresh for each request")
	}
}

func TestListCacheKeepsNewerRevision(t *testing.T) {
	e := newEnv(t)
	old := e.service(withInstances(e, "demo", 1))
	cur := e.service(withInstances(e, "demo", 2))
	v := listView{key: demo}
	lc := newListCache(10, 1<<20)
	lc.get(cur, v)
	lc.get(old, v) // a request that read the service before the change
	lc.mu.RLock()
	rev := lc.m[v].rev
	lc.mu.RUnlock()
	if rev != cur.Revision {
		t.Fatalf("cached revision %d, want the newer %d", rev, cur.Revision)
	}
	checkBytes(t, lc)
}

func TestListServedAboveByteBound(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ListCacheBytes = 1024 })
	withInstances(e, "demo", 40)
	cut := func(s string) string { return s[:strings.Index(s, `"lastRefTime":`)] }
	var bodies []string
	for i := 0; i < 2; i++ {
		rec := e.must(200, "GET", listURL("serviceName=demo"), "")
		if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
			t.Fatalf("Content-Length %s for a body of %d bytes", cl, rec.Body.Len())
		}
		if hosts := decode(t, rec)["hosts"].([]any); len(hosts) != 40 {
			t.Fatalf("%d hosts listed, want 40", len(hosts))
		}
		bodies = append(bodies, cut(rec.Body.String()))
	}
	if bodies[0] != bodies[1] {
		t.Fatal("the same revision answered differently")
	}
	if n, b := len(e.lists().m), e.lists().bytes; n != 0 || b != 0 {
		t.Fatalf("cache holds %d views (%d bytes) above its byte bound", n, b)
	}
}

// BenchmarkListCacheEvicting cycles over 2,000 views of which the byte
// bound keeps about a quarter, so most requests encode a body and evict
// others: the cost of a miss under memory pressure.
func BenchmarkListCacheEvicting(b *testing.B) {
	e := newEnv(b)
	var svcs []*naming.Service
	for s := 0; s < 200; s++ {
		key := naming.NewServiceKey("", "", "svc-"+strconv.Itoa(s))
		for i := 0; i < 3; i++ {
			e.register(key, healthyInstance("10.0.0."+strconv.Itoa(i+1), 8080))
		}
		svcs = append(svcs, e.service(key))
	}
	size := entrySize(listView{}, newListBody(referenceListHead(svcs[0], listView{key: svcs[0].Key})))
	lc := newListCache(10000, 500*size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		svc := svcs[i%len(svcs)]
		lc.get(svc, listView{key: svc.Key, cacheMillis: int64(i / len(svcs) % 10)})
	}
}
