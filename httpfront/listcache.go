package httpfront

import (
	"strconv"
	"sync"

	"sextant/naming"
)

// listView is everything an instance/list body depends on besides the
// service itself and lastRefTime.
type listView struct {
	key         naming.ServiceKey
	clusters    string // the request's clusters, echoed
	env         string // echoed
	healthyOnly bool
	flavour     flavour
	cacheMillis int64
}

// maxCachedParams keeps client-chosen strings out of the cache beyond a size.
const maxCachedParams = 256

// finishList appends lastRefTime and the closing brace to a copy of head.
func finishList(head []byte, lastRefTime int64) []byte {
	out := make([]byte, 0, len(head)+21)
	out = append(out, head...)
	out = strconv.AppendInt(out, lastRefTime, 10)
	return append(out, '}')
}

// listBody is an encoded list head: the body up to lastRefTime's value.
type listBody struct {
	head []byte
}

func newListBody(head []byte) listBody { return listBody{head: head} }

// listCache keeps the encoded list per view, valid for one revision of the
// service, so a list is encoded once per change rather than per request,
// and the encoded hosts of each service (fragSet), so that encoding it
// after a change encodes the changed instances only. Requests that miss
// the same view at the same revision together wait for one of them to
// encode it (a flight), so pollers that all ask right after a change cost
// one encoding.
//
// Bodies and host fragments together take at most maxBytes bytes, and at
// most max views are kept; beyond either bound arbitrary views (then
// fragment sets) are dropped, and a body or set larger than maxBytes on
// its own is used but never kept. A hit costs a read lock and a map
// lookup; the bounds are only enforced when something is stored.
type listCache struct {
	mu       sync.RWMutex
	m        map[listView]listEntry
	frags    map[fragKey]*fragSet
	flights  map[flightKey]*flight
	max      int
	maxBytes int64
	bytes    int64 // sum of entrySize over m and of size over frags

	// onRender, when set, is called by each request that encodes a body,
	// before it does.
	onRender func(listView)
}

type listEntry struct {
	rev  uint64
	body listBody
}

// flightKey is one view at one revision.
type flightKey struct {
	v   listView
	rev uint64
}

// flight is one encoding of a body that other requests wait for.
type flight struct {
	done    chan struct{}
	body    listBody
	ok      bool // body is set (the encoding did not panic)
	waiters int
}

// entrySize is what a body counts against maxBytes: its encoded head and
// the client-chosen strings of its view, which the cache keeps too.
func entrySize(v listView, b listBody) int64 {
	return int64(len(b.head) + len(v.clusters) + len(v.env))
}

func newListCache(max int, maxBytes int64) *listCache {
	return &listCache{
		m: map[listView]listEntry{}, frags: map[fragKey]*fragSet{}, flights: map[flightKey]*flight{},
		max: max, maxBytes: maxBytes,
	}
}

// get returns the encoded body for svc (nil: unknown service) and v.
func (lc *listCache) get(svc *naming.Service, v listView) listBody {
	if svc == nil || len(v.clusters)+len(v.env) > maxCachedParams {
		return newListBody(lc.render(svc, v))
	}
	lc.mu.RLock()
	e, ok := lc.m[v]
	lc.mu.RUnlock()
	if ok && e.rev == svc.Revision {
		return e.body
	}
	return lc.miss(svc, v)
}

// miss encodes the body of v at svc's revision, or waits for the request
// that encodes it already, and keeps it.
func (lc *listCache) miss(svc *naming.Service, v listView) listBody {
	fk := flightKey{v: v, rev: svc.Revision}
	lc.mu.Lock()
	if e, ok := lc.m[v]; ok && e.rev == svc.Revision { // stored meanwhile
		lc.mu.Unlock()
		return e.body
	}
	if f := lc.flights[fk]; f != nil {
		f.waiters++
		lc.mu.Unlock()
		<-f.done
		if f.ok {
			return f.body
		}
		return newListBody(lc.render(svc, v)) // the encoding panicked
	}
	f := &flight{done: make(chan struct{})}
	lc.flights[fk] = f
	lc.mu.Unlock()
	defer func() {
		lc.mu.Lock()
		delete(lc.flights, fk)
		if f.ok {
			lc.storeLocked(v, listEntry{rev: svc.Revision, body: f.body})
		}
		lc.mu.Unlock()
		close(f.done)
	}()
	f.body = newListBody(lc.render(svc, v))
	f.ok = true
	return f.body
}

// render encodes the body of v.
func (lc *listCache) render(svc *naming.Service, v listView) []byte {
	if lc.onRender != nil {
		lc.onRender(v)
	}
	return renderList(svc, v, lc.fragsFor)
}

// fragsFor returns the fragments of k that follow svc's instances, from
// the cache or built from the set it holds for an earlier view.
func (lc *listCache) fragsFor(svc *naming.Service, k fragKey) *fragSet {
	lc.mu.RLock()
	prev := lc.frags[k]
	lc.mu.RUnlock()
	if prev != nil && prev.covers(svc.Instances) {
		return prev
	}
	fs := buildFrags(prev, svc, k)
	lc.mu.Lock()
	defer lc.mu.Unlock()
	old, had := lc.frags[k]
	if had {
		if old.rev > fs.rev {
			return fs
		}
		delete(lc.frags, k)
		lc.bytes -= old.size
	}
	if fs.size <= lc.maxBytes {
		lc.makeRoom(fs.size, false)
		lc.frags[k] = fs
		lc.bytes += fs.size
	}
	return fs
}

// storeLocked keeps e for v, dropping other views while a bound would be
// exceeded. A body bigger than maxBytes is not kept, and an entry of a
// newer revision (stored meanwhile by another request) is not replaced.
// The caller holds lc.mu.
func (lc *listCache) storeLocked(v listView, e listEntry) {
	size := entrySize(v, e.body)
	old, had := lc.m[v]
	if had {
		if old.rev > e.rev {
			return
		}
		delete(lc.m, v)
		lc.bytes -= entrySize(v, old.body)
	}
	if size > lc.maxBytes {
		return
	}
	lc.makeRoom(size, true)
	lc.m[v] = e
	lc.bytes += size
}

// makeRoom drops views, then fragment sets, until size more bytes (and,
// for a view, one more view) fit. The caller holds lc.mu.
func (lc *listCache) makeRoom(size int64, view bool) {
	for k, o := range lc.m {
		if (!view || len(lc.m) < lc.max) && lc.bytes+size <= lc.maxBytes {
			return
		}
		delete(lc.m, k)
		lc.bytes -= entrySize(k, o.body)
	}
	for k, o := range lc.frags {
		if lc.bytes+size <= lc.maxBytes {
			return
		}
		delete(lc.frags, k)
		lc.bytes -= o.size
	}
}
