package naming

import (
	"hash/maphash"
	"sort"
	"sync"
	"sync/atomic"
)

// Catalog is the in-memory registry: namespaces, services with their
// instances, and switches. It implements Reader. All methods are safe for
// concurrent use.
type Catalog struct {
	// stripes serialise the writes to one service (spread over
	// serviceStripes locks by key); mu guards the maps and is held only
	// to read or install a view, never while one is built.
	stripes [serviceStripes]sync.Mutex
	seed    maphash.Seed

	mu         sync.RWMutex
	services   map[ServiceKey]*Service
	namespaces map[string]Namespace
	switches   Switches
	auth       *AuthState
	rev        uint64
	flips      flipCounters
	shared     sharedMaps

	lmu       sync.Mutex
	listeners map[int]func(ServiceKey)
	nextL     int
	// snapshot of listeners, replaced on change, read without locks
	lsnap atomic.Pointer[[]func(ServiceKey)]
}

// NewCatalog returns an empty catalog with default switches.
func NewCatalog() *Catalog {
	return &Catalog{
		seed:       maphash.MakeSeed(),
		services:   map[ServiceKey]*Service{},
		namespaces: map[string]Namespace{},
		switches:   DefaultSwitches(),
		auth:       &AuthState{},
		listeners:  map[int]func(ServiceKey){},
	}
}

// Watch registers fn to be called with the key of every service whose
// visible state changed. fn runs on the goroutine that applied the change,
// after the catalog's lock is released; it may run concurrently with other
// calls, so it must read the current state from the catalog rather than rely
// on call order. It must not block. The returned function unregisters fn.
func (c *Catalog) Watch(fn func(ServiceKey)) (cancel func()) {
	c.lmu.Lock()
	id := c.nextL
	c.nextL++
	c.listeners[id] = fn
	c.publishListeners()
	c.lmu.Unlock()
	return func() {
		c.lmu.Lock()
		delete(c.listeners, id)
		c.publishListeners()
		c.lmu.Unlock()
	}
}

func (c *Catalog) publishListeners() {
	ids := make([]int, 0, len(c.listeners))
	for id := range c.listeners {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	fns := make([]func(ServiceKey), 0, len(ids))
	for _, id := range ids {
		fns = append(fns, c.listeners[id])
	}
	c.lsnap.Store(&fns)
}

func (c *Catalog) notify(keys ...ServiceKey) {
	p := c.lsnap.Load()
	if p == nil {
		return
	}
	for _, k := range keys {
		for _, fn := range *p {
			fn(k)
		}
	}
}

// Service returns the current view of a service.
func (c *Catalog) Service(key ServiceKey) (*Service, bool) {
	c.mu.RLock()
	s, ok := c.services[key]
	c.mu.RUnlock()
	if ok {
		s.materialize()
	}
	return s, ok
}

// Instance returns the current version of one instance, without
// building the service's instance list.
func (c *Catalog) Instance(key ServiceKey, ik InstanceKey) (*Instance, bool) {
	c.mu.RLock()
	s, ok := c.services[key]
	c.mu.RUnlock()
	if !ok {
		return nil, false
	}
	in := s.Find(ik)
	return in, in != nil
}

// View is Service without building the instance list: a reader that
// needs only some instances, their count or one pass over them reads the
// view through Find, Lookup, Len or All, which cost O(log n), O(1) and one
// walk of the tree, and leaves Instances unread (it may be nil until
// the list is built by a read through Service or Services).
func (c *Catalog) View(key ServiceKey) (*Service, bool) {
	c.mu.RLock()
	s, ok := c.services[key]
	c.mu.RUnlock()
	return s, ok
}

// Services returns the services of a namespace (all namespaces when ns is
// empty) and of a group (all groups when group is empty), sorted by
// namespace, group and name.
func (c *Catalog) Services(ns, group string) []*Service {
	out := c.Views(ns, group)
	for _, s := range out {
		s.materialize()
	}
	return out
}

// Views is Services without building instance lists; see View for how the
// views are read.
func (c *Catalog) Views(ns, group string) []*Service {
	c.mu.RLock()
	out := make([]*Service, 0, len(c.services))
	for k, s := range c.services {
		if (ns == "" || k.Namespace == ns) && (group == "" || k.Group == group) {
			out = append(out, s)
		}
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return lessKey(out[i].Key, out[j].Key) })
	return out
}

func lessKey(a, b ServiceKey) bool {
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	if a.Group != b.Group {
		return a.Group < b.Group
	}
	return a.Name < b.Name
}

// Namespaces returns every namespace, "public" first, then by id.
func (c *Catalog) Namespaces() []Namespace {
	c.mu.RLock()
	out := make([]Namespace, 0, len(c.namespaces)+1)
	for _, n := range c.namespaces {
		out = append(out, n)
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return append([]Namespace{PublicNamespace()}, out...)
}

// PublicNamespace is the namespace that always exists.
func PublicNamespace() Namespace {
	return Namespace{ID: DefaultNamespace, Name: DefaultNamespace, Description: "default namespace", Quota: 200}
}

// Namespace returns one namespace.
func (c *Catalog) Namespace(id string) (Namespace, bool) {
	if id == "" || id == DefaultNamespace {
		return PublicNamespace(), true
	}
	c.mu.RLock()
	n, ok := c.namespaces[id]
	c.mu.RUnlock()
	return n, ok
}

// Switches returns the current switches.
func (c *Catalog) Switches() Switches {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.switches
}
