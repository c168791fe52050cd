package naming

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
		cur, notify := old, false
		var flips [2]int // to unhealthy, to healthy
		for i := range ops {
			if errs[i] = refused[i]; errs[i] != nil {
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
				flips[(ch.flip+1)/2]++
			}
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
