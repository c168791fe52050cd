package naming

import "slices"

// publish stamps a new view from s, whose Instances hold every instance of
// the service sorted by ID, and stores it. The caller holds c.mu. It reads
// the whole list: catalog-wide ops (restores, service records) use it;
// changes of a few instances build their view with replaced or treeView.
func (c *Catalog) publish(op *Op, s *Service) {
	c.store(c.listView(op, c.services[s.Key], s))
}

// publishTree stores treeView's view. The caller holds c.mu.
func (c *Catalog) publishTree(op *Op, old, s *Service, tree *tnode, change func(*serviceSums)) {
	c.store(c.treeView(op, old, s, tree, change))
}

// listView stamps s, whose Instances hold every instance sorted by ID, as
// the view after old, and returns it.
func (c *Catalog) listView(op *Op, old, s *Service) *Service {
	c.ownNew(old, s)
	s.tree = buildTree(s.Instances)
	s.lazy = builtList()
	c.stamp(op, old, s)
	return s
}

// replaced returns the view after old (nil for a new service) that holds
// old's instances with in added or replacing the instance of the same ID,
// as a durable view or not. Only in is owned and digested, and only the
// path to its leaf of the instance tree is copied: the cost does not grow
// with the size of the service.
func (c *Catalog) replaced(op *Op, old *Service, meta ServiceMeta, in *Instance, durable bool) *Service {
	key := op.Service
	var tree *tnode
	if old != nil {
		key, tree = old.Key, old.tree
	}
	if !in.owned {
		c.shared.own(in)
	}
	tree, prev := tree.set(in)
	s := &Service{Key: key, Meta: meta, Durable: durable}
	return c.treeView(op, old, s, tree, func(sums *serviceSums) {
		if prev != nil {
			sums.sub(prev, key)
		}
		sums.add(in, key)
	})
}

// treeView stamps s with the instance tree tree, whose instances are
// owned, as the view after old, and returns it; change turns the digests
// of old's instances into those of tree's (when old's are known). The list
// is built on its first read.
func (c *Catalog) treeView(op *Op, old, s *Service, tree *tnode, change func(*serviceSums)) *Service {
	s.tree, s.lazy = tree, &lazyList{}
	if old != nil && old.sums.ok {
		s.sums = old.sums
		change(&s.sums)
	}
	c.stamp(op, old, s)
	return s
}

// builtList is the lazyList of a view whose Instances are already set.
func builtList() *lazyList {
	l := &lazyList{}
	l.once.Do(func() {})
	return l
}

// stamp completes s, whose instances are owned, as the view that follows
// old (nil for none): its key, digests and time. It needs no lock: a view
// is built from the one before it, outside the catalog-wide lock.
func (c *Catalog) stamp(op *Op, old, s *Service) {
	if old != nil {
		s.Key = old.Key
	} else {
		s.Key = internKey(s.Key)
	}
	s.computeSums(old)
	s.Modified = op.Time
	s.Checksum = checksum(s)
	s.EphemeralChecksum = ephemeralChecksum(s)
}

// store makes s, a stamped view, the current view of its service with the
// next revision. The caller holds c.mu.
func (c *Catalog) store(s *Service) {
	c.rev++
	s.Revision = c.rev
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
	DiffInstances(old.list(), s.Instances, func(_, cur *Instance) {
		if cur != nil && !cur.owned {
			c.shared.own(cur)
		}
	})
}

// list returns the instances of s as a slice, building it on a published
// view that has not built it yet.
func (s *Service) list() []*Instance {
	return s.materialize().Instances
}

func sortInstances(list []*Instance) {
	slices.SortFunc(list, func(a, b *Instance) int { return CompareKeys(a.Key(), b.Key()) })
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
