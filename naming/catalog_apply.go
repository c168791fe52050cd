package naming

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// Apply validates op and applies it. On error nothing changes. A node's
// writes are validated before they get here (consensus.Router, Standalone);
// Apply checks again because not every op comes through such a door: Raft
// entries and WAL records read back, Distro records from other members and
// the gateway's mirror reach the catalog directly.
func (c *Catalog) Apply(op Op) error {
	if err := op.Validate(); err != nil {
		return err
	}
	if op.Kind == OpBeat && c.fastBeat(&op) {
		return nil
	}
	if isInstanceOp(op.Kind) {
		return c.applyToService(&op)
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

// change is what an op on one service's instances gives, built from the
// service's current view.
type change struct {
	next   *Service // the stamped view to install; nil when nothing changes
	notify bool     // whether readers can see the change (listeners hear of it)
	flip   int8     // +1: an ephemeral instance turned healthy, -1: unhealthy
}

// isInstanceOp reports whether ops of kind change one service's instances
// (and nothing else): those are built by buildChange.
func isInstanceOp(kind OpKind) bool {
	switch kind {
	case OpRegister, OpBeat, OpDeregister, OpUpdateInstance, OpSetHealth, OpReplaceEphemeral, OpMergeEphemeral:
		return true
	}
	return false
}

// buildChange builds the change of an op on one service's instances from
// old, the service's current view (nil when it does not exist). It changes
// nothing the catalog holds.
func (c *Catalog) buildChange(op *Op, old *Service) (change, error) {
	switch op.Kind {
	case OpRegister:
		next, err := c.register(op, old, op.Instance)
		return change{next: next, notify: true}, err
	case OpBeat:
		return c.beat(op, old)
	case OpDeregister:
		return c.deregister(op, old)
	case OpUpdateInstance:
		return c.updateInstance(op, old)
	case OpSetHealth:
		return c.setHealth(op, old)
	case OpReplaceEphemeral:
		return c.replaceEphemeral(op, old)
	case OpMergeEphemeral:
		return c.mergeEphemeral(op, old)
	}
	return change{}, Errorf(ErrInvalid, "operation %s does not change instances", op.Kind)
}

// applyToService applies an op on one service's instances. Writes to one
// service are serialised by its stripe lock; the new view is built from
// the current one outside the catalog-wide lock, which is taken only to
// install it. When a catalog-wide op (a service record op, a restore)
// replaced the view meanwhile, the change is built again from the new one.
func (c *Catalog) applyToService(op *Op) error {
	ch, err := c.installChange(op)
	if err != nil || ch.next == nil {
		return err
	}
	if ch.flip != 0 {
		c.flips.count(ch.flip > 0)
	}
	if ch.notify {
		c.notify(op.Service) // with no lock held, as Watch promises
	}
	return nil
}

// installChange builds op's change under the service's stripe lock and
// installs it; ch.next is nil when nothing changed.
func (c *Catalog) installChange(op *Op) (change, error) {
	l := c.stripe(op.Service)
	l.Lock()
	defer l.Unlock()
	for {
		c.mu.RLock()
		old := c.services[op.Service]
		c.mu.RUnlock()
		ch, err := c.buildChange(op, old)
		if err != nil || ch.next == nil {
			return ch, err
		}
		c.mu.Lock()
		if c.services[op.Service] != old {
			c.mu.Unlock()
			continue
		}
		c.store(ch.next)
		c.mu.Unlock()
		return ch, nil
	}
}

// serviceStripes is the number of write locks services are spread over.
const serviceStripes = 64

// stripe returns the write lock of a service.
func (c *Catalog) stripe(key ServiceKey) *sync.Mutex {
	return &c.stripes[maphash.Comparable(c.seed, key)%serviceStripes]
}

func (c *Catalog) applyLocked(op *Op) (changed bool, err error) {
	switch op.Kind {
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
		c.publishTree(op, old, &Service{Key: op.Service, Meta: m, Durable: true}, old.tree, keepSums)
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
		c.publishTree(op, old, &Service{Key: op.Service, Meta: m, Durable: true}, old.tree, keepSums)
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
	}
	if op.Kind.IsAuth() {
		return false, c.applyAuth(op)
	}
	return false, Errorf(ErrInvalid, "unknown operation %d", op.Kind)
}

// keepSums is the digest change of a new view with the same instances.
func keepSums(*serviceSums) {}

func (c *Catalog) register(op *Op, old *Service, src *Instance) (*Service, error) {
	in := src.clone()
	in.Updated = op.Time
	meta, durable := ServiceMeta{Implicit: true}, !in.Ephemeral
	if old != nil {
		if old.Durable || in.Ephemeral {
			meta, durable = old.Meta, old.Durable || durable
		}
		if prev := old.Find(in.Key()); prev != nil {
			if !prev.Ephemeral && in.Ephemeral {
				// A persistent instance is CP data: replication never replaces it.
				return nil, Errorf(ErrConflict, "instance %s is registered as persistent", in.Key().ID(op.Service))
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
	return c.replaced(op, old, meta, in, durable), nil
}

func (c *Catalog) beat(op *Op, s *Service) (change, error) {
	var in *Instance
	if s != nil {
		in = s.Find(op.Target)
	}
	if in == nil {
		if op.Instance == nil {
			return change{}, Errorf(ErrNotFound, "instance not found: %s", op.Target.ID(op.Service))
		}
		full := op.Instance.clone()
		full.Ephemeral = true
		full.Healthy = true
		next, err := c.register(op, s, full)
		return change{next: next, notify: true}, err
	}
	storeMax(in.beat, op.Time)
	if in.Healthy || !in.Ephemeral {
		return change{}, nil
	}
	n := in.clone()
	n.Healthy = true
	n.Updated = op.Time
	n.Check = CheckResult{Time: op.Time, Reason: "client beat"}
	return change{next: c.replaced(op, s, s.Meta, n, s.Durable), notify: true, flip: 1}, nil
}

func (c *Catalog) deregister(op *Op, s *Service) (change, error) {
	if s == nil {
		return change{}, nil
	}
	in := s.Find(op.Target)
	if in == nil || (op.ExpectBeat != 0 && in.LastBeat() != op.ExpectBeat) {
		return change{}, nil
	}
	tree, _ := s.tree.del(in.Key())
	next := c.treeView(op, s, &Service{Key: s.Key, Meta: s.Meta, Durable: s.Durable}, tree, func(sums *serviceSums) { sums.sub(in, s.Key) })
	return change{next: next, notify: true}, nil
}

func (c *Catalog) updateInstance(op *Op, s *Service) (change, error) {
	var in *Instance
	if s != nil {
		in = s.Find(op.Target)
	}
	if in == nil {
		return change{}, Errorf(ErrNotFound, "instance not exist: %s", op.Target.ID(op.Service))
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
		n.Metadata = p.Metadata // owning it copies it
	}
	return change{next: c.replaced(op, s, s.Meta, n, s.Durable), notify: true}, nil
}

func (c *Catalog) setHealth(op *Op, s *Service) (change, error) {
	var in *Instance
	if s != nil {
		in = s.Find(op.Target)
	}
	if in == nil {
		return change{}, Errorf(ErrNotFound, "instance not exist: %s", op.Target.ID(op.Service))
	}
	n := healthChanged(op, in)
	if n == nil {
		return change{}, nil
	}
	ch := change{next: c.replaced(op, s, s.Meta, n, s.Durable), notify: in.Healthy != n.Healthy}
	if in.Ephemeral && ch.notify {
		ch.flip = -1
		if n.Healthy {
			ch.flip = 1
		}
	}
	return ch, nil
}

// healthChanged returns in with op's health and check, or nil when op
// changes nothing: in beat since the sweep that decided op looked
// (ExpectBeat), or already has that health and check.
func healthChanged(op *Op, in *Instance) *Instance {
	if op.ExpectBeat != 0 && in.LastBeat() != op.ExpectBeat {
		return nil
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
		return nil
	}
	return n
}

func (c *Catalog) replaceEphemeral(op *Op, old *Service) (change, error) {
	meta, durable := ServiceMeta{Implicit: true}, false
	var list []*Instance
	prev := map[InstanceKey]*Instance{}
	persistent := map[InstanceKey]bool{}
	if old != nil {
		meta, durable = old.Meta, old.Durable
		for _, in := range old.list() {
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
		return change{}, nil
	}
	return change{next: c.listView(op, old, s), notify: true}, nil
}
