package naming

import "sort"

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
