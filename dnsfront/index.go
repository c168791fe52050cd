package dnsfront

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"sextant/naming"
)

// foldKey is a service key with ASCII letters folded to lowercase.
type foldKey struct{ namespace, group, name string }

func foldOf(k naming.ServiceKey) foldKey {
	group := defaultGroupFolded
	if k.Group != naming.DefaultGroup {
		group = lowerASCII(k.Group)
	}
	return foldKey{lowerASCII(k.Namespace), group, lowerASCII(k.Name)}
}

// defaultGroupFolded is naming.DefaultGroup folded, kept so that the usual
// query, which names no group, folds without allocating.
const defaultGroupFolded = "default_group"

// entry is everything prepared for one service. A change to the service
// replaces it. Its records are built once, on the first query that needs
// them: a service that changes many times between two queries (a burst of
// registrations) costs one build, not one per change, and the write path
// stays free of record building.
type entry struct {
	key   naming.ServiceKey
	svc   *naming.Service
	build recordBuilder
	once  sync.Once

	all *rrsets
	// clusters maps each cluster that has instances to its records;
	// folded maps the lowercase cluster name to the first cluster of that
	// spelling, for queries that do not match the case.
	clusters map[string]*rrsets
	folded   map[string]*rrsets

	// wire is the generation of the wire answers prepared from this entry
	// (wirecache.go); 0 while none may be served because the entry shares
	// its folded key with another spelling, so that the answer depends on
	// the case of the query; deadWire once the entry has been replaced.
	wire atomic.Uint64
}

// deadWire is the wire generation of a replaced entry: never handed out,
// so nothing prepared from the entry is current any more.
const deadWire = ^uint64(0)

// liveWire reports whether answers prepared at wire generation g may be
// served while the entry keeps it.
func liveWire(g uint64) bool { return g != 0 && g != deadWire }

// clusterCaseUnique reports whether no two clusters of the service differ
// only in case, so that a cluster pair in any case finds the same records.
// The records must have been prepared.
func (e *entry) clusterCaseUnique() bool { return len(e.folded) == len(e.clusters) }

// records returns the records for a cluster filter ("" = all clusters), nil
// when the service has no instance in that cluster.
func (e *entry) records(cluster string) *rrsets {
	e.once.Do(e.prepare)
	if cluster == "" {
		return e.all
	}
	if r, ok := e.clusters[cluster]; ok {
		return r
	}
	return e.folded[lowerASCII(cluster)]
}

// index holds the prepared entries of every service, found by folded key,
// and keeps them current from the Source's change notifications.
type index struct {
	view    func(naming.ServiceKey) (*naming.Service, bool)
	views   func(namespace, group string) []*naming.Service
	build   recordBuilder
	changed func() // called after every update, outside mu

	upd sync.Mutex // serialises updates, so the newest read is stored last
	gen uint64     // the last wire generation handed out; guarded by mu
	// keys moves whenever a service is added or removed (not when one
	// changes): what depends only on which names exist holds while it
	// stays.
	keys atomic.Uint64

	mu       sync.RWMutex
	services map[foldKey][]*entry // spellings of one folded key, sorted by key
	suffixes map[foldKey]int      // proper label suffixes of service names, counted
}

// viewSource is a source that hands out views without building their
// instance lists (naming.Catalog does). The index reads a view's instances
// only through All and Select, on the first query after a change, so with
// such a source a change reads no instance, however large the service.
type viewSource interface {
	View(key naming.ServiceKey) (*naming.Service, bool)
	Views(namespace, group string) []*naming.Service
}

func newIndex(src naming.ServiceReader, b recordBuilder, changed func()) *index {
	x := &index{build: b, changed: changed, view: src.Service, views: src.Services,
		services: map[foldKey][]*entry{}, suffixes: map[foldKey]int{}}
	if v, ok := src.(viewSource); ok {
		x.view, x.views = v.View, v.Views
	}
	return x
}

// load prepares every service the source holds now.
func (x *index) load() {
	for _, svc := range x.views("", "") {
		x.update(svc.Key)
	}
}

// update re-reads one service from the source and replaces its entry.
func (x *index) update(key naming.ServiceKey) {
	x.upd.Lock()
	defer x.upd.Unlock()
	var e *entry
	if svc, ok := x.view(key); ok {
		e = x.prepare(svc)
	}
	fk := foldOf(key)
	x.mu.Lock()
	old := x.services[fk]
	list := make([]*entry, 0, len(old)+1)
	existed := false
	for _, o := range old {
		if o.key == key {
			existed = true
			continue
		}
		list = append(list, o)
	}
	if e != nil {
		list = append(list, e)
		sort.Slice(list, func(i, j int) bool { return lessKey(list[i].key, list[j].key) })
	}
	// Wire answers prepared from the old entries go with them; a lone
	// entry gets a new generation, so that answers prepared while it was
	// not alone are never served.
	for _, o := range old {
		if o.key == key {
			o.wire.Store(deadWire)
		} else {
			o.wire.Store(0)
		}
	}
	if len(list) == 1 {
		x.gen++
		list[0].wire.Store(x.gen)
	}
	if len(list) == 0 {
		delete(x.services, fk)
	} else {
		x.services[fk] = list
	}
	switch {
	case e != nil && !existed:
		x.countSuffixes(fk, 1)
		x.keys.Add(1)
	case e == nil && existed:
		x.countSuffixes(fk, -1)
		x.keys.Add(1)
	}
	x.mu.Unlock()
	x.changed()
}

func (x *index) prepare(svc *naming.Service) *entry {
	return &entry{key: svc.Key, svc: svc, build: x.build}
}

// prepare builds the records of every cluster filter; it runs once.
func (e *entry) prepare() {
	svc := e.svc
	e.all = e.build.build(svc, nil)
	e.clusters, e.folded = map[string]*rrsets{}, map[string]*rrsets{}
	var names []string
	for in := range svc.All() {
		if _, ok := e.clusters[in.Cluster]; !ok {
			e.clusters[in.Cluster] = nil
			names = append(names, in.Cluster)
		}
	}
	sort.Strings(names)
	for _, c := range names {
		r := e.all
		if len(names) > 1 {
			r = e.build.build(svc, []string{c})
		}
		e.clusters[c] = r
		if f := lowerASCII(c); e.folded[f] == nil {
			e.folded[f] = r
		}
	}
	e.svc = nil // the records are all that is needed from now on
}

// countSuffixes adds n to the count of each proper label suffix of the
// name: "a.b.c" counts "b.c" and "c". The caller holds x.mu.
func (x *index) countSuffixes(fk foldKey, n int) {
	name := fk.name
	for {
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return
		}
		name = name[i+1:]
		k := foldKey{fk.namespace, fk.group, name}
		if x.suffixes[k] += n; x.suffixes[k] <= 0 {
			delete(x.suffixes, k)
		}
	}
}

// lookup finds a service: the exact spelling if it exists, else the first
// spelling that matches without regard to case.
func (x *index) lookup(k naming.ServiceKey) *entry {
	x.mu.RLock()
	list := x.services[foldOf(k)]
	x.mu.RUnlock()
	for _, e := range list {
		if e.key == k {
			return e
		}
	}
	if len(list) > 0 {
		return list[0]
	}
	return nil
}

// isSuffix reports whether name (case-insensitively) ends the dotted name of
// some service of the namespace and group, making it an empty non-terminal.
func (x *index) isSuffix(k naming.ServiceKey) bool {
	x.mu.RLock()
	n := x.suffixes[foldOf(k)]
	x.mu.RUnlock()
	return n > 0
}

func lessKey(a, b naming.ServiceKey) bool {
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	if a.Group != b.Group {
		return a.Group < b.Group
	}
	return a.Name < b.Name
}
