package httpfront

import (
	"encoding/json"
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

// listJSON is the instance/list body without lastRefTime, which is
// appended when the body is written.
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

// renderListHead encodes the list of svc (nil for an unknown service) for
// v, up to and including `"lastRefTime":`.
func renderListHead(svc *naming.Service, v listView) []byte {
	bare := v.key.Name
	if v.flavour == flavourGrouped {
		bare = v.key.Grouped()
	}
	body := listJSON{
		Name:        v.key.Grouped(),
		Dom:         bare,
		Clusters:    v.clusters,
		CacheMillis: v.cacheMillis,
		Hosts:       []hostJSON{},
		Env:         v.env,
		Metadata:    map[string]string{},
		Valid:       true,
	}
	if svc != nil {
		sel := svc.Select(clusterList(v.clusters), v.healthyOnly)
		for _, in := range sel.Instances {
			body.Hosts = append(body.Hosts, hostOf(in, bare, in.Healthy || sel.Protected))
		}
		body.ReachProtectionThreshold = sel.Protected
		body.Checksum = svc.Checksum
		body.Metadata = emptyIfNil(svc.Meta.Metadata)
	}
	b, err := json.Marshal(body)
	if err != nil { // cannot happen: only strings, numbers and string maps
		b = []byte(`{"hosts":[]}`)
	}
	return append(b[:len(b)-1], `,"lastRefTime":`...)
}

// finishList appends lastRefTime and the closing brace to a copy of head.
func finishList(head []byte, lastRefTime int64) []byte {
	out := make([]byte, 0, len(head)+21)
	out = append(out, head...)
	out = strconv.AppendInt(out, lastRefTime, 10)
	return append(out, '}')
}

// stampDigits is the length of lastRefTime in decimal (milliseconds from
// 2001 to 2286), for which a body's Content-Length is kept ready.
const stampDigits = 13

// listBody is an encoded list head and the Content-Length value of the
// whole body with a lastRefTime of stampDigits digits.
type listBody struct {
	head   []byte
	length []string // shared: never modified
}

func newListBody(head []byte) listBody {
	return listBody{head: head, length: []string{strconv.Itoa(len(head) + stampDigits + 1)}}
}

// listCache keeps the encoded list per view, valid for one revision of the
// service, so a list is encoded once per change rather than per request.
// It holds at most max views and at most maxBytes bytes of encoded bodies;
// beyond either bound arbitrary views are dropped, and a body larger than
// maxBytes on its own is served but never kept. A hit costs a read lock
// and a map lookup; the bounds are only enforced when a body is stored.
type listCache struct {
	mu       sync.RWMutex
	m        map[listView]listEntry
	max      int
	maxBytes int64
	bytes    int64 // sum of entrySize over m
}

type listEntry struct {
	rev  uint64
	body listBody
}

// entrySize is what a body counts against maxBytes: its encoded head and
// the client-chosen strings of its view, which the cache keeps too.
func entrySize(v listView, b listBody) int64 {
	return int64(len(b.head) + len(v.clusters) + len(v.env))
}

func newListCache(max int, maxBytes int64) *listCache {
	return &listCache{m: map[listView]listEntry{}, max: max, maxBytes: maxBytes}
}

// get returns the encoded body for svc (nil: unknown service) and v.
func (lc *listCache) get(svc *naming.Service, v listView) listBody {
	if svc == nil || len(v.clusters)+len(v.env) > maxCachedParams {
		return newListBody(renderListHead(svc, v))
	}
	lc.mu.RLock()
	e, ok := lc.m[v]
	lc.mu.RUnlock()
	if ok && e.rev == svc.Revision {
		return e.body
	}
	b := newListBody(renderListHead(svc, v))
	lc.store(v, listEntry{rev: svc.Revision, body: b})
	return b
}

// store keeps e for v, dropping other views while a bound would be
// exceeded. A body bigger than maxBytes is not kept, and an entry of a
// newer revision (stored meanwhile by another request) is not replaced.
func (lc *listCache) store(v listView, e listEntry) {
	size := entrySize(v, e.body)
	lc.mu.Lock()
	defer lc.mu.Unlock()
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
	for k, o := range lc.m {
		if len(lc.m) < lc.max && lc.bytes+size <= lc.maxBytes {
			break
		}
		delete(lc.m, k)
		lc.bytes -= entrySize(k, o.body)
	}
	lc.m[v] = e
	lc.bytes += size
}
