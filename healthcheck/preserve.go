package healthcheck

import (
	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// BeatStats are the beat checker's counters since it was built.
type BeatStats struct {
	// Held counts removals self-preservation held back (one per instance
	// per sweep).
	Held uint64
	// EmptyDropped counts empty services this node dropped from its own
	// catalog (records that are not durable; see collect).
	EmptyDropped uint64
}

// Stats returns the beat checker's counters.
func (b *BeatChecker) Stats() BeatStats {
	return BeatStats{Held: b.held.Load(), EmptyDropped: b.dropped.Load()}
}

// preserve applies self-preservation to one sweep's ops: while a member is
// unreachable, the removals of a service that would lose more than
// PreserveShare of its ephemeral instances, or all removals when the sweep
// would remove more than that share of every instance this node judges,
// are held back. A held instance that is still healthy is marked unhealthy
// instead, so it leaves healthy lists while it waits. The caller holds
// b.mu.
func (b *BeatChecker) preserve(svcs []*naming.Service, ops []naming.Op) []naming.Op {
	if !b.cfg.SelfPreservation || b.peers == nil || b.peers.AllReachable() {
		b.release()
		return ops
	}
	removals := map[naming.ServiceKey]int{}
	total := 0
	for i := range ops {
		if ops[i].Kind == naming.OpDeregister {
			removals[ops[i].Service]++
			total++
		}
	}
	if total == 0 {
		b.release()
		return ops
	}
	size := map[naming.ServiceKey]int{}
	all := 0
	for _, s := range svcs {
		if _, ok := b.owned[s.Key]; !ok {
			continue
		}
		for in := range s.All() {
			if in.Ephemeral {
				size[s.Key]++
				all++
			}
		}
	}
	share := b.cfg.PreserveShare
	wholeNode := float64(total) > share*float64(all)
	held := map[naming.ServiceKey]bool{}
	for k, n := range removals {
		if wholeNode || float64(n) > share*float64(size[k]) {
			held[k] = true
		}
	}
	if len(held) == 0 {
		b.release()
		return ops
	}
	out := ops[:0]
	var heldNow uint64
	for _, op := range ops {
		if op.Kind != naming.OpDeregister || !held[op.Service] {
			out = append(out, op)
			continue
		}
		heldNow++
		if flip, ok := b.unhealthyInstead(op); ok {
			out = append(out, flip)
		}
	}
	b.held.Add(heldNow)
	if !b.holding {
		b.log.WithFields(logrus.Fields{"held": heldNow, "removals": total, "instances": all, "services": len(held), "share": share}).
			Warn("self-preservation: a member is unreachable and this sweep would remove more than the allowed share of instances; holding removals back until every member is reachable")
		b.holding = true
	}
	return out
}

// release notes that removals flow again.
func (b *BeatChecker) release() {
	if b.holding {
		b.log.Info("self-preservation: every member is reachable again or nothing is held; removals resume")
		b.holding = false
	}
}

// unhealthyInstead turns a held removal into a flip to unhealthy when the
// instance is still healthy; false when there is nothing to flip.
func (b *BeatChecker) unhealthyInstead(op naming.Op) (naming.Op, bool) {
	in, ok := b.src.Instance(op.Service, op.Target)
	if !ok || !in.Healthy {
		return op, false
	}
	return naming.Op{
		Kind: naming.OpSetHealth, Time: op.Time, Service: op.Service, Ephemeral: true,
		Target: op.Target, Healthy: false, ExpectBeat: op.ExpectBeat,
		Check: &naming.CheckResult{Time: op.Time, Reason: "no beat for " + idle(op.ExpectBeat, op.Time).String() + "; removal held back while a member is unreachable"},
	}, true
}
