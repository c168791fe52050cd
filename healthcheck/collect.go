package healthcheck

import (
	"sextant/naming"
)

// collect appends to ops the deletion of every service this node owns that
// a registration created (implicit) and that has had no instance for
// EmptyServiceGrace, so churned names do not pile up in the catalog, the
// DNS index and snapshots. The deletion goes through the writer, which
// sends it where the service lives (Raft for a durable one); the catalog
// refuses it if an instance arrived meanwhile, and a later registration
// creates the service again. The caller holds b.mu.
func (b *BeatChecker) collect(svcs []*naming.Service, now int64, ops []naming.Op) []naming.Op {
	grace := b.cfg.EmptyServiceGrace.Milliseconds()
	if grace <= 0 {
		return ops
	}
	for _, s := range svcs {
		o, ok := b.owned[s.Key]
		if !ok {
			continue
		}
		switch {
		case len(s.Instances) > 0 || !s.Meta.Implicit:
			o.empty = 0
		case o.empty == 0:
			o.empty = now
		case now-o.empty >= grace:
			ops = append(ops, naming.Op{Kind: naming.OpDeleteService, Time: now, Service: s.Key})
			o.empty = now // a refused deletion is tried again one grace later
		}
		b.owned[s.Key] = o
	}
	return ops
}
