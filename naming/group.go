package naming

import "slices"

// ApplyGroup applies ops, which all change instances of one service, as one
// change of that service: each op is built on the view the ones before it
// left, and only the last view is installed, so the group costs one
// install, one revision and one notification of the watchers, however many
// instances it changes (the beat checker's flips and expiries of a sweep).
// It returns each op's error, nil for an op applied or one that changed
// nothing; an op that fails changes nothing, and the others still apply.
// An op of another service, or one that does not change instances, fails
// with ErrInvalid. Readers see the view before the group or the one after
// it, never a part of it.
func (c *Catalog) ApplyGroup(ops []Op) []error {
	refused := make([]error, len(ops))
	if len(ops) == 0 {
		return refused
	}
	key := ops[0].Service
	for i := range ops {
		switch {
		case ops[i].Service != key:
			refused[i] = Errorf(ErrInvalid, "a group changes one service: %s is not %s", ops[i].Service, key)
		case !isInstanceOp(ops[i].Kind):
			refused[i] = Errorf(ErrInvalid, "operation %s does not change instances", ops[i].Kind)
		default:
			refused[i] = ops[i].Validate()
		}
	}
	errs := make([]error, len(ops))
	l := c.stripe(key)
	l.Lock()
	defer l.Unlock()
	for {
		c.mu.RLock()
		old := c.services[key]
		c.mu.RUnlock()
		copy(errs, refused)
		var cur *Service
		var notify bool
		var flips [2]int // to unhealthy, to healthy
		if healthOnly(ops, refused) && old != nil && old.tree != nil {
			cur, notify, flips = c.healthGroup(ops, errs, old)
		} else {
			cur, notify, flips = c.opGroup(ops, errs, old)
		}
		if cur == old {
			return errs
		}
		c.mu.Lock()
		if c.services[key] != old {
			// A catalog-wide op replaced the view meanwhile: build the
			// group again on the new one.
			c.mu.Unlock()
			continue
		}
		c.store(cur)
		c.mu.Unlock()
		c.flips.unhealthy.Add(uint64(flips[0]))
		c.flips.healthy.Add(uint64(flips[1]))
		if notify {
			c.notify(key)
		}
		return errs
	}
}

// opGroup builds the view after ops from old, op after op, each on the
// view the ones before it left; errs holds the ops refused already, and
// gets the others' errors.
func (c *Catalog) opGroup(ops []Op, errs []error, old *Service) (cur *Service, notify bool, flips [2]int) {
	cur = old
	for i := range ops {
		if errs[i] != nil {
			continue
		}
		ch, err := c.buildChange(&ops[i], cur)
		if err != nil {
			errs[i] = err
			continue
		}
		if ch.next == nil {
			continue
		}
		cur, notify = ch.next, notify || ch.notify
		if ch.flip != 0 {
			flips[boolIndex(ch.flip > 0)]++
		}
	}
	return cur, notify, flips
}

// healthOnly reports whether the ops not refused all set the health of an
// instance, each of another one: the group a beat sweep makes of the
// instances of a service that time out together.
func healthOnly(ops []Op, refused []error) bool {
	seen := make(map[InstanceKey]bool, len(ops))
	for i := range ops {
		if refused[i] != nil {
			continue
		}
		if ops[i].Kind != OpSetHealth || seen[ops[i].Target] {
			return false
		}
		seen[ops[i].Target] = true
	}
	return true
}

// healthGroup is opGroup for a healthOnly group: it gives the same view
// and results, but replaces every changed instance in one pass over old's
// tree (replaceAll), so the nodes above several of them are copied once,
// and stamps one view instead of one per op.
func (c *Catalog) healthGroup(ops []Op, errs []error, old *Service) (cur *Service, notify bool, flips [2]int) {
	type replacement struct{ prev, next *Instance }
	var rs []replacement
	var last *Op
	for i := range ops {
		if errs[i] != nil {
			continue
		}
		op := &ops[i]
		in := old.Find(op.Target)
		if in == nil {
			errs[i] = Errorf(ErrNotFound, "instance not exist: %s", op.Target.ID(op.Service))
			continue
		}
		n := healthChanged(op, in)
		if n == nil {
			continue
		}
		if !n.owned {
			c.shared.own(n)
		}
		rs, last = append(rs, replacement{in, n}), op
		if in.Healthy != n.Healthy {
			notify = true
			if in.Ephemeral {
				flips[boolIndex(n.Healthy)]++
			}
		}
	}
	if len(rs) == 0 {
		return old, false, flips
	}
	slices.SortFunc(rs, func(a, b replacement) int { return CompareKeys(a.next.Key(), b.next.Key()) })
	ins := make([]*Instance, len(rs))
	for i, r := range rs {
		ins[i] = r.next
	}
	key := old.Key
	cur = c.treeView(last, old, &Service{Key: key, Meta: old.Meta, Durable: old.Durable}, old.tree.replaceAll(ins), func(sums *serviceSums) {
		for _, r := range rs {
			sums.sub(r.prev, key)
			sums.add(r.next, key)
		}
	})
	return cur, notify, flips
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}
