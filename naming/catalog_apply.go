package naming

import "sync/atomic"

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

// keepSums is the digest change of a new view with the same instances.
func keepSums(*serviceSums) {}

func (c *Catalog) register(op *Op, src *Instance) error {
	in := src.clone()
	in.ID = in.Key().ID(op.Service)
	in.Updated = op.Time
	old := c.services[op.Service]
	meta, durable := ServiceMeta{Implicit: true}, !in.Ephemeral
	if old != nil {
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
	c.publishReplace(op, old, meta, in, durable)
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
	c.publishReplace(op, s, s.Meta, n, s.Durable)
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
	tree, _ := s.tree.del(in.ID)
	c.publishTree(op, s, &Service{Key: s.Key, Meta: s.Meta, Durable: s.Durable}, tree, func(sums *serviceSums) { sums.sub(in) })
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
	c.publishReplace(op, s, s.Meta, n, s.Durable)
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
	c.publishReplace(op, s, s.Meta, n, s.Durable)
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
