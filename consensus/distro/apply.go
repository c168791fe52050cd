package distro

import (
	"sextant/naming"
)

// record returns the current record of key: the catalog's ephemeral
// instances and the remembered tombstones, merged so each instance key
// appears once. The caller holds key's lock.
func (e *Engine) record(key naming.ServiceKey) Record {
	s, _ := e.cat.Service(key)
	return Merge(Record{Key: key, Instances: ephemeralOf(s)}, Record{Key: key, Tombstones: e.tombs.list(key)})
}

// snapshot is record under key's lock.
func (e *Engine) snapshot(key naming.ServiceKey) Record {
	mu := e.lockFor(key)
	mu.Lock()
	defer mu.Unlock()
	return e.record(key)
}

// targetOf returns the instance an instance op concerns.
func targetOf(op *naming.Op) naming.InstanceKey {
	if op.Kind == naming.OpRegister && op.Instance != nil {
		return op.Instance.Key()
	}
	return op.Target
}

// applyOwned applies a write this node is responsible for. The op is
// stamped later than every version of the instance this node knows (its
// last change and any tombstone), so the responsible node's own writes win
// the merge even when clocks disagree; deregistrations leave a tombstone.
func (e *Engine) applyOwned(op naming.Op) error {
	key := op.Service
	mu := e.lockFor(key)
	mu.Lock()
	defer mu.Unlock()
	if op.Time == 0 {
		op.Time = e.nowMs()
	}
	ik := targetOf(&op)
	before, _ := e.cat.Service(key)
	var prev *naming.Instance
	if before != nil {
		prev = before.Find(ik)
	}
	floor := e.tombs.get(key, ik)
	if prev != nil && prev.Updated > floor {
		floor = prev.Updated
	}
	if op.Time <= floor {
		op.Time = floor + 1
	}
	if err := e.cat.Apply(op); err != nil {
		return err
	}
	after, _ := e.cat.Service(key)
	changed := after != before
	var present bool
	if after != nil {
		present = after.Find(ik) != nil
	}
	if op.Kind == naming.OpDeregister {
		// A deregistration of an instance this node does not hold still
		// counts: a peer may hold it. One that ExpectBeat turned into a
		// no-op does not.
		if (prev != nil && !present) || (prev == nil && op.ExpectBeat == 0) {
			e.tombs.set(key, ik, op.Time)
			changed = true
		}
	} else if present && e.tombs.remove(key, ik) {
		changed = true
	}
	if changed {
		e.markDirty(key)
	}
	return nil
}

// mergeRecord merges rec into the local copy and applies the result. When
// propagate is set and this node owns the key, a change is queued for sync.
func (e *Engine) mergeRecord(rec Record, propagate bool) (bool, error) {
	if err := rec.Key.Validate(); err != nil {
		return false, err
	}
	key := rec.Key
	mu := e.lockFor(key)
	mu.Lock()
	defer mu.Unlock()
	local := e.record(key)
	now := e.nowMs()
	merged := Prune(Merge(local, rec), now-e.cfg.TombstoneTTL.Milliseconds())
	changed := false
	if !sameInstances(local.Instances, merged.Instances) {
		before, _ := e.cat.Service(key)
		op := naming.Op{Kind: naming.OpReplaceEphemeral, Time: now, Service: key, Instances: merged.Instances}
		if err := e.cat.Apply(op); err != nil {
			return false, err
		}
		after, _ := e.cat.Service(key)
		changed = after != before
	}
	if e.tombs.replace(key, merged.Tombstones) {
		changed = true
	}
	if changed && propagate && e.Owns(key) {
		e.markDirty(key)
	}
	return changed, nil
}

// dropLocal forgets this node's copy of key.
func (e *Engine) dropLocal(key naming.ServiceKey) error {
	mu := e.lockFor(key)
	mu.Lock()
	defer mu.Unlock()
	e.tombs.replace(key, nil)
	s, _ := e.cat.Service(key)
	if len(ephemeralOf(s)) == 0 {
		return nil
	}
	return e.cat.Apply(naming.Op{Kind: naming.OpReplaceEphemeral, Time: e.nowMs(), Service: key})
}
