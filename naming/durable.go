package naming

// A service's record is CP data once a CP op (an explicit create, a
// persistent registration) made it so: Service.Durable. Ephemeral ops
// (Distro's replication, AP-mode registrations) create services too, but
// those records live in memory only and differ from node to node. So that
// the same sequence of CP ops gives the same persistent state on every node
// whatever each node's ephemeral data, CP ops look only at durable records
// and persistent instances:
//
//   - OpCreateService on a service that is not durable adopts it: the record
//     takes the op's definition and becomes durable; its ephemeral
//     instances stay.
//   - OpUpdateService and OpUpdateCluster treat a service that is not
//     durable as absent (ErrNotFound); admission creates it first.
//   - OpDeleteService counts persistent instances only. Refusing to delete a
//     service that still has ephemeral instances is admission's decision,
//     made before the op is ordered (consensus.Admit, and the Raft leader);
//     inside Apply, a deleted service that still has ephemeral instances
//     here stays as a record that is not durable.
//   - Replication never replaces a persistent instance, and an ephemeral
//     registration over one is refused (ErrConflict), so an instance is
//     persistent on every node or on none.
//
// PersistentState holds durable services only, and RestorePersistent keeps
// the services that are not durable, with their ephemeral instances.

// durableService returns the service when its record is durable.
func (c *Catalog) durableService(key ServiceKey) (*Service, bool) {
	s, ok := c.services[key]
	if !ok || !s.Durable {
		return nil, false
	}
	return s, true
}

// createService applies OpCreateService. The caller holds c.mu.
func (c *Catalog) createService(op *Op) (bool, error) {
	old := c.services[op.Service]
	if old != nil && old.Durable {
		return false, Errorf(ErrConflict, "specified service already exists, serviceName : %s", op.Service.Grouped())
	}
	s := &Service{Key: op.Service, Meta: cloneMeta(*op.Meta), Durable: true}
	if old == nil {
		c.publish(op, s)
		return true, nil
	}
	// Ephemeral instances only: a record that is not durable has no others.
	c.publishTree(op, old, s, old.tree, keepSums)
	return true, nil
}

// deleteService applies OpDeleteService. The caller holds c.mu.
func (c *Catalog) deleteService(op *Op) (bool, error) {
	old, ok := c.services[op.Service]
	if !ok {
		return false, Errorf(ErrNotFound, "specified service not exist, serviceName : %s", op.Service.Grouped())
	}
	var eph []*Instance
	for in := range old.All() {
		if !in.Ephemeral {
			return false, Errorf(ErrConflict, "Service %s is not empty, can't be delete. Please unregister instance first", op.Service.Grouped())
		}
		eph = append(eph, in)
	}
	if len(eph) > 0 {
		// Ephemeral instances this node holds (admission saw none): they
		// stay, under a record that is no longer durable.
		c.publish(op, &Service{Key: old.Key, Meta: ServiceMeta{Implicit: true}, Instances: eph})
		return true, nil
	}
	delete(c.services, op.Service)
	c.rev++
	return true, nil
}

// CanDeleteService is the admission check of OpDeleteService: a service
// that still has instances of either class is not deleted. It reads the
// current state, so it belongs before the op is ordered, never inside Apply.
func (c *Catalog) CanDeleteService(key ServiceKey) error {
	s, _ := c.Service(key)
	return CheckDeleteService(key, s)
}

// CheckDeleteService is CanDeleteService over a view of the service (nil
// when absent).
func CheckDeleteService(key ServiceKey, s *Service) error {
	if s == nil {
		return Errorf(ErrNotFound, "specified service not exist, serviceName : %s", key.Grouped())
	}
	if s.Len() > 0 {
		return Errorf(ErrConflict, "Service %s is not empty, can't be delete. Please unregister instance first", key.Grouped())
	}
	return nil
}

// DropEmpty deletes key's record when it is not durable and holds no
// instance: the collection of an empty service that only ephemeral data
// made, which each node does for its own copy (such a record is not CP
// state). The check and the deletion are one step under the catalog's
// lock, so a durable create that lands at the same moment is never
// deleted with it, and an instance that arrives after the deletion makes
// the service again. An absent service is no error.
func (c *Catalog) DropEmpty(key ServiceKey) error {
	c.mu.Lock()
	s, ok := c.services[key]
	switch {
	case !ok:
		c.mu.Unlock()
		return nil
	case s.Durable:
		c.mu.Unlock()
		return Errorf(ErrConflict, "service %s is durable: only its log deletes it", key.Grouped())
	case s.Len() > 0:
		c.mu.Unlock()
		return Errorf(ErrConflict, "Service %s is not empty, can't be delete. Please unregister instance first", key.Grouped())
	}
	delete(c.services, key)
	c.rev++
	c.mu.Unlock()
	c.notify(key)
	return nil
}
