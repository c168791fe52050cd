package naming

import (
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
	return search(s.Instances, k, s.Key)
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

func (c *Catalog) mergeEphemeral(op *Op) (bool, error) {
	old := c.services[op.Service]
	meta, durable := ServiceMeta{Implicit: true}, false
	var cur []*Instance
	if old != nil {
		meta, cur, durable = old.Meta, old.Instances, old.Durable
	}
	// The changes by instance id; a later entry of the same key wins.
	upd := make(map[string]*Instance, len(op.Instances))
	for _, src := range op.Instances {
		in := src.clone()
		in.Ephemeral = true
		in.ID = in.Key().ID(op.Service)
		upd[in.ID] = in
	}
	var rm map[string]bool
	if len(op.Removed) > 0 {
		rm = make(map[string]bool, len(op.Removed))
		for _, k := range op.Removed {
			rm[k.ID(op.Service)] = true
		}
	}
	changed := false
	list := make([]*Instance, 0, len(cur)+len(upd))
	for _, in := range cur {
		if !in.Ephemeral {
			delete(upd, in.ID) // CP data: replication never replaces it
			list = append(list, in)
			continue
		}
		if n, ok := upd[in.ID]; ok {
			delete(upd, in.ID)
			n.beat = in.beat
			if n.beat == nil {
				n.beat = new(atomic.Int64)
				n.beat.Store(op.Time)
			}
			if instanceSum(n) != instanceSum(in) {
				changed = true
			}
			list = append(list, n)
			continue
		}
		if rm[in.ID] {
			changed = true
			continue
		}
		list = append(list, in)
	}
	if len(upd) > 0 {
		changed = true
		added := make([]*Instance, 0, len(upd))
		for _, in := range upd {
			in.beat = new(atomic.Int64)
			in.beat.Store(op.Time)
			added = append(added, in)
		}
		sortInstances(added)
		list = mergeSorted(list, added)
	}
	if !changed && old != nil {
		return false, nil
	}
	c.publish(op, &Service{Key: op.Service, Meta: meta, Instances: list, Durable: durable})
	return true, nil
}

// mergeSorted merges two lists sorted by ID into one.
func mergeSorted(a, b []*Instance) []*Instance {
	out := make([]*Instance, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if b[j].ID < a[i].ID {
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
