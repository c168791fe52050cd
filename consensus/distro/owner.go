package distro

import (
	"slices"
	"sync"

	"sextant/naming"
)

// Owner picks the responsible node of key among members by rendezvous
// hashing: the member with the highest score for (key, member) wins, ties
// going to the larger address. Every node computes the same owner from the
// same member set, and when a member leaves only the keys it owned move.
func Owner(key naming.ServiceKey, members []string) string {
	prefix := fnvString(fnvString(fnvString(fnvOffset, key.Namespace), key.Group), key.Name)
	var best string
	var bestScore uint64
	for _, m := range members {
		s := mix(fnvString(prefix, m))
		if best == "" || s > bestScore || s == bestScore && m > best {
			best, bestScore = m, s
		}
	}
	return best
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnvString continues a 64-bit FNV-1a hash over s and a separator, so that
// ("ab","c") and ("a","bc") differ.
func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	h ^= 0xff
	return h * fnvPrime
}

// mix spreads the bits of an FNV hash over the whole range, so the scores
// of one key on different members are independent.
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// maxCachedOwners bounds the owner cache of one member view.
const maxCachedOwners = 1 << 20

// ownerTable caches owners for one member view. A new view gets a new table.
type ownerTable struct {
	live []string
	hash uint64

	mu    sync.RWMutex
	cache map[naming.ServiceKey]string
}

func newOwnerTable(live []string, hash uint64) *ownerTable {
	return &ownerTable{live: live, hash: hash, cache: map[naming.ServiceKey]string{}}
}

func (t *ownerTable) owner(key naming.ServiceKey) string {
	t.mu.RLock()
	o, ok := t.cache[key]
	t.mu.RUnlock()
	if ok {
		return o
	}
	o = Owner(key, t.live)
	t.mu.Lock()
	if len(t.cache) < maxCachedOwners {
		t.cache[key] = o
	}
	t.mu.Unlock()
	return o
}

func (t *ownerTable) isLive(addr string) bool {
	_, ok := slices.BinarySearch(t.live, addr)
	return ok
}

// table returns the owner table of the current member view, building a new
// one when the view's hash moved.
func (e *Engine) table() *ownerTable {
	h := e.view.Hash()
	if t := e.own.Load(); t != nil && t.hash == h {
		return t
	}
	var live []string
	for range 3 { // Live and Hash are read apart; retry if the view moved between
		live = e.view.Live()
		h2 := e.view.Hash()
		if h2 == h {
			break
		}
		h = h2
	}
	slices.Sort(live)
	t := newOwnerTable(live, h)
	e.own.Store(t)
	return t
}

// Owner returns the responsible node of key in the current member view.
func (e *Engine) Owner(key naming.ServiceKey) string { return e.table().owner(key) }

// Owns reports whether this node is responsible for key and may judge its
// instances now: it owns key in its member view, and that view is agreed
// (View.Agreed: a majority, and the peers it reaches see the same live
// set) and this node is not just back from a stall (stall.go). So while
// views differ or this node is cut off with a minority, no node's beat
// checker expires what another may own. It is cheap: the owner
// of each key is cached until the member view changes.
func (e *Engine) Owns(key naming.ServiceKey) bool {
	return e.owns(key) && e.view.Agreed() && e.stalled() == nil
}

// owns reports whether this node is the owner of key in its member view.
func (e *Engine) owns(key naming.ServiceKey) bool { return e.table().owner(key) == e.self }

// livePeers returns the live members other than this node.
func (e *Engine) livePeers() []string {
	t := e.table()
	out := make([]string, 0, len(t.live))
	for _, a := range t.live {
		if a != e.self {
			out = append(out, a)
		}
	}
	return out
}
