package distro

import (
	"cmp"
	"slices"
	"sync"

	"sextant/naming"
)

// MaxTombstonesPerService bounds the deregistrations remembered for one
// service; beyond it the oldest are forgotten first.
const MaxTombstonesPerService = 10000

// MaxTombstones bounds the deregistrations remembered for all services;
// each verify round forgets the oldest past it (down to nine tenths).
const MaxTombstones = 1_000_000

// instanceTimes holds one time per instance, per service: the engine
// keeps its tombstones (recent deregistrations) and its beat marks in one.
type instanceTimes struct {
	mu    sync.Mutex
	m     map[naming.ServiceKey]map[naming.InstanceKey]int64
	limit int // per service; 0 for none
}

// newTombstones remembers at most MaxTombstonesPerService per service.
func newTombstones() *instanceTimes {
	return &instanceTimes{m: map[naming.ServiceKey]map[naming.InstanceKey]int64{}, limit: MaxTombstonesPerService}
}

// newMarks holds beat marks: one per instance, no limit beyond the catalog's.
func newMarks() *instanceTimes {
	return &instanceTimes{m: map[naming.ServiceKey]map[naming.InstanceKey]int64{}}
}

func (t *instanceTimes) get(key naming.ServiceKey, ik naming.InstanceKey) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[key][ik]
}

// set records a time, keeping the later one.
func (t *instanceTimes) set(key naming.ServiceKey, ik naming.InstanceKey, at int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.of(key)
	if s[ik] < at {
		s[ik] = at
	}
	if t.limit > 0 && len(s) > t.limit {
		trim(s)
	}
}

// trim drops the oldest tenth of a service's entries, by count: oldest
// time first, ties broken by instance key, so a burst stamped in one
// millisecond loses a tenth, not all of it.
func trim(s map[naming.InstanceKey]int64) {
	all := make([]Tombstone, 0, len(s))
	for ik, at := range s {
		all = append(all, Tombstone{Instance: ik, Time: at})
	}
	slices.SortFunc(all, func(a, b Tombstone) int {
		if a.Time != b.Time {
			return cmp.Compare(a.Time, b.Time)
		}
		return compareInstanceKey(a.Instance, b.Instance)
	})
	for _, t := range all[:max(len(all)/10, 1)] {
		delete(s, t.Instance)
	}
}

// remove forgets a tombstone; it reports whether there was one.
func (t *instanceTimes) remove(key naming.ServiceKey, ik naming.InstanceKey) bool {
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

// list returns a service's times as tombstones, sorted by instance key.
func (t *instanceTimes) list(key naming.ServiceKey) []Tombstone {
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

// replace sets a service's times; it reports whether they changed.
func (t *instanceTimes) replace(key naming.ServiceKey, list []Tombstone) bool {
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
	if t.limit > 0 && len(s) > t.limit {
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

func (t *instanceTimes) keys() []naming.ServiceKey {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]naming.ServiceKey, 0, len(t.m))
	for k := range t.m {
		out = append(out, k)
	}
	return out
}

// prune forgets times older than before (Unix ms); it returns how many.
func (t *instanceTimes) prune(before int64) int {
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

// put sets the time of one instance, 0 forgetting it.
func (t *instanceTimes) put(key naming.ServiceKey, ik naming.InstanceKey, at int64) {
	if at == 0 {
		t.remove(key, ik)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.of(key)[ik] = at
}

// of returns key's map, creating it. The caller holds t.mu.
func (t *instanceTimes) of(key naming.ServiceKey) map[naming.InstanceKey]int64 {
	s := t.m[key]
	if s == nil {
		s = map[naming.InstanceKey]int64{}
		t.m[key] = s
	}
	return s
}

// forget drops the times of key's instances that keep does not report
// present; it returns how many.
func (t *instanceTimes) forget(key naming.ServiceKey, keep func(naming.InstanceKey) bool) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for ik := range t.m[key] {
		if !keep(ik) {
			delete(t.m[key], ik)
			n++
		}
	}
	if len(t.m[key]) == 0 {
		delete(t.m, key)
	}
	return n
}

// capTotal forgets the oldest entries, over all services, when there are
// more than limit, down to nine tenths of it; it returns how many.
func (t *instanceTimes) capTotal(limit int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	total := 0
	for _, s := range t.m {
		total += len(s)
	}
	if total <= limit {
		return 0
	}
	type entry struct {
		key naming.ServiceKey
		Tombstone
	}
	all := make([]entry, 0, total)
	for k, s := range t.m {
		for ik, at := range s {
			all = append(all, entry{k, Tombstone{Instance: ik, Time: at}})
		}
	}
	slices.SortFunc(all, func(a, b entry) int { return cmp.Compare(a.Time, b.Time) })
	cut := total - limit*9/10
	for _, e := range all[:cut] {
		delete(t.m[e.key], e.Instance)
		if len(t.m[e.key]) == 0 {
			delete(t.m, e.key)
		}
	}
	return cut
}
