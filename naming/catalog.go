package naming

import (
	"sort"
	"sync"
	"sync/atomic"
)

// Catalog is the in-memory registry: namespaces, services with their
// instances, and switches. It implements Reader. All methods are safe for
// concurrent use.
type Catalog struct {
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
	return s, ok
}

// Services returns the services of a namespace (all namespaces when ns is
// empty) and of a group (all groups when group is empty), sorted by
// namespace, group and name.
func (c *Catalog) Services(ns, group string) []*Service {
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

// Apply validates op and applies it. On error nothing changes.
func (c *Catalog) Apply(op Op) error {
	if err := op.Validate(); err != nil {
		return err
	}
	if op.Kind == OpBeat && c.fastBeat(&op) {
		return nil
	}
	c.mu.Lock()
	changed, err := c.applyLocked(&op)
	c.mu.Unlock()
	if err == nil && changed {
		c.notify(op.Service)
	}
	return err
}

// fastBeat records a beat for a healthy, existing instance under the read
// lock only: no new view is needed, since last-beat times live in a shared
// atomic cell.
func (c *Catalog) fastBeat(op *Op) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.services[op.Service]
	if !ok {
		return false
	}
	in := s.Find(op.Target)
	if in == nil || !in.Healthy || in.beat == nil {
		return false
	}
	storeMax(in.beat, op.Time)
	return true
}

func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

func (c *Catalog) applyLocked(op *Op) (changed bool, err error) {
	switch op.Kind {
	case OpRegister:
		return true, c.register(op, op.Instance)
	case OpBeat:
		return c.beat(op)
	case OpDeregister:
		return c.deregister(op)
	case OpUpdateInstance:
		return true, c.updateInstance(op)
	case OpSetHealth:
		return c.setHealth(op)
	case OpCreateService:
		return c.createService(op)
	case OpUpdateService:
		old, ok := c.durableService(op.Service)
		if !ok {
			return false, Errorf(ErrNotFound, "service %s not found!", op.Service.Grouped())
		}
		m := cloneMeta(*op.Meta)
		m.Clusters = old.Meta.Clusters
		m.Implicit = false
		c.publish(op, &Service{Key: op.Service, Meta: m, Instances: old.Instances, Durable: true})
		return true, nil
	case OpDeleteService:
		return c.deleteService(op)
	case OpUpdateCluster:
		old, ok := c.durableService(op.Service)
		if !ok {
			return false, Errorf(ErrNotFound, "service %s not found!", op.Service.Grouped())
		}
		m := cloneMeta(old.Meta)
		if m.Clusters == nil {
			m.Clusters = map[string]ClusterConfig{}
		}
		m.Clusters[op.Cluster.Name] = *op.Cluster
		c.publish(op, &Service{Key: op.Service, Meta: m, Instances: old.Instances, Durable: true})
		return true, nil
	case OpCreateNamespace:
		id := op.Namespace.ID
		if _, ok := c.namespaces[id]; ok || id == DefaultNamespace {
			return false, Errorf(ErrConflict, "namespace %s already exists", id)
		}
		c.namespaces[id] = *op.Namespace
		return false, nil
	case OpUpdateNamespace:
		id := op.Namespace.ID
		if _, ok := c.namespaces[id]; !ok {
			return false, Errorf(ErrNotFound, "namespace %s does not exist", id)
		}
		c.namespaces[id] = *op.Namespace
		return false, nil
	case OpDeleteNamespace:
		id := op.Namespace.ID
		if _, ok := c.namespaces[id]; !ok {
			return false, Errorf(ErrNotFound, "namespace %s does not exist", id)
		}
		delete(c.namespaces, id)
		return false, nil
	case OpSetSwitch:
		return false, c.switches.Set(op.SwitchEntry, op.SwitchValue)
	case OpReplaceEphemeral:
		return c.replaceEphemeral(op)
	case OpMergeEphemeral:
		return c.mergeEphemeral(op)
	}
	if op.Kind.IsAuth() {
		return false, c.applyAuth(op)
	}
	return false, Errorf(ErrInvalid, "unknown operation %d", op.Kind)
}

func (c *Catalog) register(op *Op, src *Instance) error {
	in := src.clone()
	in.ID = in.Key().ID(op.Service)
	in.Updated = op.Time
	old := c.services[op.Service]
	meta, durable := ServiceMeta{Implicit: true}, !in.Ephemeral
	var list []*Instance
	if old != nil {
		list = old.Instances
		if old.Durable || in.Ephemeral {
			meta, durable = old.Meta, old.Durable || durable
		}
		if prev := old.Find(in.Key()); prev != nil {
			if !prev.Ephemeral && in.Ephemeral {
				// A persistent instance is CP data: replication never replaces it.
				return Errorf(ErrConflict, "instance %s is registered as persistent", in.ID)
			}
			if prev.beat != nil && prev.Ephemeral == in.Ephemeral {
				in.beat = prev.beat
			}
		}
	}
	if in.beat == nil {
		in.beat = new(atomic.Int64)
	}
	in.beat.Store(op.Time)
	c.publishReplace(op, old, meta, list, in, durable)
	return nil
}

func (c *Catalog) beat(op *Op) (bool, error) {
	s := c.services[op.Service]
	var in *Instance
	if s != nil {
		in = s.Find(op.Target)
	}
	if in == nil {
		if op.Instance == nil {
			return false, Errorf(ErrNotFound, "instance not found: %s", op.Target.ID(op.Service))
		}
		full := op.Instance.clone()
		full.Ephemeral = true
		full.Healthy = true
		return true, c.register(op, full)
	}
	storeMax(in.beat, op.Time)
	if in.Healthy || !in.Ephemeral {
		return false, nil
	}
	n := in.clone()
	n.Healthy = true
	n.Updated = op.Time
	n.Check = CheckResult{Time: op.Time, Reason: "client beat"}
	c.flips.count(true)
	c.publishReplace(op, s, s.Meta, s.Instances, n, s.Durable)
	return true, nil
}

func (c *Catalog) deregister(op *Op) (bool, error) {
	s := c.services[op.Service]
	if s == nil {
		return false, nil
	}
	in := s.Find(op.Target)
	if in == nil || (op.ExpectBeat != 0 && in.LastBeat() != op.ExpectBeat) {
		return false, nil
	}
	list := make([]*Instance, 0, len(s.Instances)-1)
	for _, x := range s.Instances {
		if x != in {
			list = append(list, x)
		}
	}
	c.publish(op, &Service{Key: s.Key, Meta: s.Meta, Instances: list, Durable: s.Durable})
	return true, nil
}

func (c *Catalog) updateInstance(op *Op) error {
	s := c.services[op.Service]
	var in *Instance
	if s != nil {
		in = s.Find(op.Target)
	}
	if in == nil {
		return Errorf(ErrNotFound, "instance not exist: %s", op.Target.ID(op.Service))
	}
	n := in.clone()
	n.Updated = op.Time
	p := op.Patch
	if p.Weight != nil {
		n.Weight = *p.Weight
	}
	if p.Enabled != nil {
		n.Enabled = *p.Enabled
	}
	if p.Healthy != nil {
		n.Healthy = *p.Healthy
	}
	if p.Metadata != nil {
		n.Metadata = p.Metadata // publish copies it
	}
	c.publishReplace(op, s, s.Meta, s.Instances, n, s.Durable)
	return nil
}

func (c *Catalog) setHealth(op *Op) (bool, error) {
	s := c.services[op.Service]
	var in *Instance
	if s != nil {
		in = s.Find(op.Target)
	}
	if in == nil {
		return false, Errorf(ErrNotFound, "instance not exist: %s", op.Target.ID(op.Service))
	}
	if op.ExpectBeat != 0 && in.LastBeat() != op.ExpectBeat {
		return false, nil
	}
	n := in.clone()
	n.Healthy = op.Healthy
	if n.Healthy != in.Healthy {
		n.Updated = op.Time
	}
	if op.Check != nil {
		n.Check = *op.Check
	}
	if n.Healthy == in.Healthy && n.Check == in.Check {
		return false, nil
	}
	if in.Ephemeral && in.Healthy != n.Healthy {
		c.flips.count(n.Healthy)
	}
	c.publishReplace(op, s, s.Meta, s.Instances, n, s.Durable)
	return in.Healthy != n.Healthy, nil
}

func (c *Catalog) replaceEphemeral(op *Op) (bool, error) {
	old := c.services[op.Service]
	meta, durable := ServiceMeta{Implicit: true}, false
	var list []*Instance
	prev := map[InstanceKey]*Instance{}
	persistent := map[InstanceKey]bool{}
	if old != nil {
		meta, durable = old.Meta, old.Durable
		for _, in := range old.Instances {
			if in.Ephemeral {
				prev[in.Key()] = in
			} else {
				list = append(list, in)
				persistent[in.Key()] = true
			}
		}
	}
	for _, src := range op.Instances {
		if persistent[src.Key()] {
			continue // a persistent instance is CP data: replication never replaces it
		}
		in := src.clone()
		in.Ephemeral = true
		in.ID = in.Key().ID(op.Service)
		if p := prev[in.Key()]; p != nil && p.beat != nil {
			in.beat = p.beat
		} else {
			in.beat = new(atomic.Int64)
			in.beat.Store(op.Time)
		}
		list = append(list, in)
	}
	s := &Service{Key: op.Service, Meta: meta, Instances: list, Durable: durable}
	sortInstances(s.Instances)
	if old != nil && ephemeralChecksum(old) == ephemeralChecksum(s) {
		return false, nil
	}
	c.publish(op, s)
	return true, nil
}

// publish stamps a new view and stores it. The caller holds c.mu.
func (c *Catalog) publish(op *Op, s *Service) {
	old := c.services[s.Key]
	c.ownNew(old, s)
	c.install(op, old, s)
}

// publishReplace publishes list (the instances of old, nil for a new
// service) with in added or replacing the instance of the same ID, as a
// durable view or not. Only in
// is owned and digested: the cost beyond copying the list does not grow
// with the size of the service.
func (c *Catalog) publishReplace(op *Op, old *Service, meta ServiceMeta, list []*Instance, in *Instance, durable bool) {
	key := op.Service
	if old != nil {
		key = old.Key
	}
	list, prev := replaceInstance(list, in)
	s := &Service{Key: key, Meta: meta, Instances: list, Durable: durable}
	if !in.owned {
		c.shared.own(in)
	}
	if old != nil && old.sums.ok {
		s.sums.all, s.sums.eph = old.sums.all, old.sums.eph
		if prev != nil {
			s.sums.sub(prev)
		}
		s.sums.add(in)
		s.sums.ok = true
	}
	c.install(op, old, s)
}

// install makes s, whose instances are owned, the current view of its
// service; old is the view it replaces (nil for none).
func (c *Catalog) install(op *Op, old, s *Service) {
	if old != nil {
		s.Key = old.Key
	} else {
		s.Key = internKey(s.Key)
	}
	s.computeSums(old)
	s.sorted = true
	c.rev++
	s.Revision = c.rev
	s.Modified = op.Time
	s.Checksum = checksum(s)
	s.EphemeralChecksum = ephemeralChecksum(s)
	c.services[s.Key] = s
}

// ownNew owns the instances of s that are not in old, a published view
// (whose instances are all owned already). Both lists are sorted by ID and
// mostly share their pointers, so only the changed entries are read.
func (c *Catalog) ownNew(old, s *Service) {
	if old == nil {
		for _, in := range s.Instances {
			if !in.owned {
				c.shared.own(in)
			}
		}
		return
	}
	DiffInstances(old.Instances, s.Instances, func(_, cur *Instance) {
		if cur != nil && !cur.owned {
			c.shared.own(cur)
		}
	})
}

// replaceInstance returns a new sorted slice with in replacing the instance
// of the same key, or added, and the instance it replaced (nil when added).
// list is sorted by ID, and within a service the ID determines the key.
func replaceInstance(list []*Instance, in *Instance) ([]*Instance, *Instance) {
	i := sort.Search(len(list), func(i int) bool { return list[i].ID >= in.ID })
	if i < len(list) && list[i].ID == in.ID {
		out := make([]*Instance, len(list))
		copy(out, list)
		out[i] = in
		return out, list[i]
	}
	out := make([]*Instance, len(list)+1)
	copy(out, list[:i])
	out[i] = in
	copy(out[i+1:], list[i:])
	return out, nil
}

func sortInstances(list []*Instance) {
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneMeta(m ServiceMeta) ServiceMeta {
	m.Metadata = cloneMap(m.Metadata)
	if m.Clusters != nil {
		cl := make(map[string]ClusterConfig, len(m.Clusters))
		for k, v := range m.Clusters {
			v.Metadata = cloneMap(v.Metadata)
			cl[k] = v
		}
		m.Clusters = cl
	}
	if m.Selector.Type == "" {
		m.Selector.Type = "none"
	}
	return m
}
