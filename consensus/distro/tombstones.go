package distro

import (
	"slices"
	"sync"

	"sextant/naming"
)

// MaxTombstonesPerService bounds the deregistrations remembered for one
// service; beyond it the oldest are forgotten first.
const MaxTombstonesPerService = 10000

// tombstones remembers recent deregistrations per service.
type tombstones struct {
	mu sync.Mutex
	m  map[naming.ServiceKey]map[naming.InstanceKey]int64
}

func newTombstones() *tombstones {
	return &tombstones{m: map[naming.ServiceKey]map[naming.InstanceKey]int64{}}
}

func (t *tombstones) get(key naming.ServiceKey, ik naming.InstanceKey) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[key][ik]
}

// set records a deregistration, keeping the later time.
func (t *tombstones) set(key naming.ServiceKey, ik naming.InstanceKey, at int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[key]
	if s == nil {
		s = map[naming.InstanceKey]int64{}
		t.m[key] = s
	}
	if s[ik] < at {
		s[ik] = at
	}
	if len(s) > MaxTombstonesPerService {
		trim(s)
	}
}

// trim drops the oldest tenth of a service's tombstones.
func trim(s map[naming.InstanceKey]int64) {
	times := make([]int64, 0, len(s))
	for _, at := range s {
		times = append(times, at)
	}
	slices.Sort(times)
	cut := times[len(times)/10]
	for ik, at := range s {
		if at <= cut {
			delete(s, ik)
		}
	}
}

// remove forgets a tombstone; it reports whether there was one.
func (t *tombstones) remove(key naming.ServiceKey, ik naming.InstanceKey) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[key]
	if _, ok := s[ik]; !ok {
		return false
	}
	delete(s, ik)
	if len(s) == 0 {
		delete(t.m, key)
	}
	return true
}

// list returns a service's tombstones sorted by instance key.
func (t *tombstones) list(key naming.ServiceKey) []Tombstone {
	t.mu.Lock()
	s := t.m[key]
	out := make([]Tombstone, 0, len(s))
	for ik, at := range s {
		out = append(out, Tombstone{Instance: ik, Time: at})
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b Tombstone) int { return compareInstanceKey(a.Instance, b.Instance) })
	return out
}

// replace sets a service's tombstones; it reports whether they changed.
func (t *tombstones) replace(key naming.ServiceKey, list []Tombstone) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.m[key]
	if len(list) == 0 {
		delete(t.m, key)
		return len(old) > 0
	}
	s := make(map[naming.InstanceKey]int64, len(list))
	for _, tb := range list {
		s[tb.Instance] = tb.Time
	}
	if len(s) > MaxTombstonesPerService {
		trim(s)
	}
	t.m[key] = s
	if len(old) != len(s) {
		return true
	}
	for ik, at := range s {
		if old[ik] != at {
			return true
		}
	}
	return false
}

func (t *tombstones) keys() []naming.ServiceKey {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]naming.ServiceKey, 0, len(t.m))
	for k := range t.m {
		out = append(out, k)
	}
	return out
}

// prune forgets tombstones older than before (Unix ms); it returns how many.
func (t *tombstones) prune(before int64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for key, s := range t.m {
		for ik, at := range s {
			if at < before {
				delete(s, ik)
				n++
			}
		}
		if len(s) == 0 {
			delete(t.m, key)
		}
	}
	return n
}
