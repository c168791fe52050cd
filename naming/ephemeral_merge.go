package naming

import (
	"slices"
	"sync/atomic"
)

// OpMergeEphemeral (see op.go) merges replicated changes into the ephemeral
// instances of a service in one new view: each of Instances is added, or
// replaces the ephemeral instance of the same key; each of Removed drops
// the ephemeral instance of that key. Every other instance stays as it is
// (the same immutable value, with its beat cell), so the cost grows with
// the number of changes, not with the size of the service. Persistent
// instances are untouched. A missing service is created (implicit). When
// nothing visible changes (only Updated differs), no new view is published,
// as for OpReplaceEphemeral.

// Lookup returns the instance with the given key, or nil, by binary search
// over the instances (sorted by ID, which the key determines).
func (s *Service) Lookup(k InstanceKey) *Instance {
	if s.lazy != nil {
		return s.tree.get(k)
	}
	return search(s.Instances, k)
}

func validateMerge(op *Op) error {
	for _, in := range op.Instances {
		if err := ValidateInstance(in); err != nil {
			return err
		}
	}
	for _, k := range op.Removed {
		if err := validateTarget(k); err != nil {
			return err
		}
	}
	return nil
}

func (c *Catalog) mergeEphemeral(op *Op, old *Service) (change, error) {
	s := &Service{Key: op.Service, Meta: ServiceMeta{Implicit: true}}
	var tree *tnode
	if old != nil {
		s.Key, s.Meta, s.Durable, tree = old.Key, old.Meta, old.Durable, old.tree
	}
	// The changes, the last entry of a key winning, each with the instance
	// it replaces (nil when added).
	changes := make([]mergeChange, 0, len(op.Instances)+len(op.Removed))
	var seen map[InstanceKey]bool // the keys of changes, for large merges
	if len(op.Instances) > mergeScanMax {
		seen = make(map[InstanceKey]bool, len(op.Instances))
	}
	changed := false
	for i := len(op.Instances) - 1; i >= 0; i-- {
		in := op.Instances[i].clone()
		in.Ephemeral = true
		k := in.Key()
		if seen != nil && seen[k] || seen == nil && slices.ContainsFunc(changes, func(x mergeChange) bool { return x.now.Key() == k }) {
			continue // a later entry of the same key won
		}
		if seen != nil {
			seen[k] = true
		}
		prev := tree.get(in.Key())
		if prev != nil && !prev.Ephemeral {
			continue // CP data: replication never replaces it
		}
		if prev != nil && prev.beat != nil {
			in.beat = prev.beat
		} else {
			in.beat = new(atomic.Int64)
			in.beat.Store(op.Time)
		}
		if prev == nil || instanceSum(in, s.Key) != instanceSum(prev, s.Key) {
			changed = true
		}
		changes = append(changes, mergeChange{prev, in})
	}
	updates := len(changes)
	for _, k := range op.Removed {
		prev := tree.get(k)
		if prev == nil || !prev.Ephemeral || seen != nil && seen[prev.Key()] ||
			seen == nil && slices.ContainsFunc(changes[:updates], func(x mergeChange) bool { return x.was == prev }) {
			continue // absent, CP data, or updated by the same op
		}
		changes = append(changes, mergeChange{prev, nil})
		changed = true
	}
	if !changed && old != nil {
		return change{}, nil
	}
	for _, ch := range changes[:updates] {
		if !ch.now.owned {
			c.shared.own(ch.now)
		}
	}
	if len(changes) > mergeScanMax && len(changes) > tree.size()/16 {
		tree = bulkMerge(tree, changes[:updates], changes[updates:])
	} else {
		for _, ch := range changes[:updates] {
			tree, _ = tree.set(ch.now)
		}
		for _, ch := range changes[updates:] {
			tree, _ = tree.del(ch.was.Key())
		}
	}
	next := c.treeView(op, old, s, tree, func(sums *serviceSums) {
		for _, ch := range changes {
			if ch.was != nil {
				sums.sub(ch.was, s.Key)
			}
			if ch.now != nil {
				sums.add(ch.now, s.Key)
			}
		}
	})
	return change{next: next, notify: true}, nil
}

// mergeScanMax is the number of changes up to which a merge finds
// duplicates by a scan and applies the changes one path copy at a time.
const mergeScanMax = 16

// mergeChange is one instance a merge adds (was nil), replaces or removes
// (now nil).
type mergeChange struct{ was, now *Instance }

// bulkMerge applies many changes in one pass over the instances of tree
// and builds a new tree: cheaper than a path copy for each.
func bulkMerge(tree *tnode, updates, removals []mergeChange) *tnode {
	gone := make(map[*Instance]bool, len(updates)+len(removals))
	added := make([]*Instance, 0, len(updates))
	for _, ch := range updates {
		added = append(added, ch.now)
		if ch.was != nil {
			gone[ch.was] = true
		}
	}
	for _, ch := range removals {
		gone[ch.was] = true
	}
	list := make([]*Instance, 0, tree.size()+len(added))
	tree.each(func(in *Instance) bool {
		if !gone[in] {
			list = append(list, in)
		}
		return true
	})
	sortInstances(added)
	return buildTree(mergeSorted(list, added))
}

// mergeSorted merges two lists sorted by ID into one.
func mergeSorted(a, b []*Instance) []*Instance {
	out := make([]*Instance, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if CompareKeys(b[j].Key(), a[i].Key()) < 0 {
			out = append(out, b[j])
			j++
		} else {
			out = append(out, a[i])
			i++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
