package distro

import (
	"context"

	"sextant/naming"
)

// ApplyGroup applies ops, writes to one service, and returns each one's
// error, as Apply would for each. When this node is responsible for the
// service and the ops are what a beat sweep decides (expiries and flips
// that carry ExpectBeat, each of another instance), they are applied under
// one hold of the service's lock as one change of the catalog
// (naming.Catalog.ApplyGroup): one new view, one notification of DNS and
// subscribers, however many instances expire at once. Each op is stamped,
// checked and recorded (tombstones, marks, the sync to the peers) exactly as
// Apply does it alone. Other groups go through Apply one op at a time.
func (e *Engine) ApplyGroup(ctx context.Context, ops []naming.Op) []error {
	errs := make([]error, len(ops))
	if !sweepGroup(ops) || e.Owner(ops[0].Service) != e.self {
		for i := range ops {
			errs[i] = e.Apply(ctx, ops[i])
		}
		return errs
	}
	err := e.stalled()
	if err == nil && ctx.Err() != nil {
		err = unavailable("the request was abandoned before it was applied: %v", ctx.Err())
	}
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	e.applyOwnedGroup(ops, errs)
	return errs
}

// sweepGroup reports whether ops are two or more valid writes of a beat
// sweep to one service, each to another instance.
func sweepGroup(ops []naming.Op) bool {
	if len(ops) < 2 {
		return false
	}
	seen := make(map[naming.InstanceKey]bool, len(ops))
	for i := range ops {
		op := &ops[i]
		if op.Service != ops[0].Service || op.ExpectBeat == 0 ||
			(op.Kind != naming.OpDeregister && op.Kind != naming.OpSetHealth) || checkOp(op) != nil {
			return false
		}
		ik := targetOf(op)
		if seen[ik] {
			return false
		}
		seen[ik] = true
	}
	return true
}

// applyOwnedGroup is applyOwnedFrom for a sweep group: every op is
// prepared against the view before the group, the catalog applies them as
// one change, and each is settled against the view after it. The ops touch
// distinct instances, so each one's before and after are its own.
func (e *Engine) applyOwnedGroup(ops []naming.Op, errs []error) {
	key := ops[0].Service
	mu := e.lockFor(key)
	mu.Lock()
	defer mu.Unlock()
	before, _ := e.cat.View(key)
	writes := make([]ownedWrite, 0, len(ops))
	stamped := make([]naming.Op, 0, len(ops))
	at := make([]int, 0, len(ops))
	for i := range ops {
		w, err := e.prepareOwned(ops[i], before)
		if err != nil {
			errs[i] = err
			continue
		}
		writes, stamped, at = append(writes, w), append(stamped, w.op), append(at, i)
	}
	applied := e.cat.ApplyGroup(stamped)
	after, _ := e.cat.View(key)
	for j := range writes {
		if errs[at[j]] = applied[j]; applied[j] != nil {
			continue
		}
		var cur *naming.Instance
		if after != nil {
			cur = after.Lookup(writes[j].ik)
		}
		e.settleOwned(&writes[j], cur, cur != writes[j].prev, "local")
	}
}
