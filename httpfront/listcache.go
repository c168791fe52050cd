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

// listCache keeps the encoded list per view, valid for one revision of the
// service, so a list is encoded once per change rather than per request.
// It holds at most max views; beyond that an arbitrary one is dropped.
type listCache struct {
	mu  sync.RWMutex
	m   map[listView]listEntry
	max int
}

type listEntry struct {
	rev  uint64
	head []byte
}

func newListCache(max int) *listCache {
	return &listCache{m: map[listView]listEntry{}, max: max}
}

// head returns the encoded head for svc (nil: unknown service) and v.
func (lc *listCache) head(svc *naming.Service, v listView) []byte {
	if svc == nil || len(v.clusters)+len(v.env) > maxCachedParams {
		return renderListHead(svc, v)
	}
	lc.mu.RLock()
	e, ok := lc.m[v]
	lc.mu.RUnlock()
	if ok && e.rev == svc.Revision {
		return e.head
	}
	h := renderListHead(svc, v)
	lc.mu.Lock()
	if _, ok := lc.m[v]; !ok && len(lc.m) >= lc.max {
		for k := range lc.m {
			delete(lc.m, k)
			break
		}
	}
	lc.m[v] = listEntry{rev: svc.Revision, head: h}
	lc.mu.Unlock()
	return h
}
