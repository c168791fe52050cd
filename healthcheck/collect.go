package healthcheck

import (
	"context"
	"errors"

	"sextant/naming"
)

// emptySince is when (Unix ms) a sweep first saw a service without
// instances, and the sweep (b.gen) that last saw it so.
type emptySince struct {
	since int64
	gen   uint64
}

// collect finds the services that a registration created (implicit) and
// that have had no instance for EmptyServiceGrace, so churned names do
// not pile up in the catalog, the DNS index and snapshots. It appends to
// ops the deletions that go through the writer and to b.drops those this
// node makes alone; a service counts as empty again from the next sweep
// after a deletion that did not happen (an instance arrived meanwhile).
//
//   - A durable record is Raft state: the node that owns the service sends
//     OpDeleteService through the writer (Raft; refused in AP mode, where
//     no service op goes through Raft), which refuses it if an instance
//     arrived meanwhile.
//   - A record that is not durable lives in each node's memory only: every
//     node drops its own after the grace (BeatWriter.DropEmpty), owner or
//     not, whatever the server mode.
//
// A registration later creates the service again. The caller holds b.mu.
func (b *BeatChecker) collect(svcs []*naming.Service, now int64, ops []naming.Op) []naming.Op {
	b.drops = b.drops[:0]
	grace := b.cfg.EmptyServiceGrace.Milliseconds()
	if grace <= 0 {
		clear(b.empty)
		return ops
	}
	for _, s := range svcs {
		if s.Len() > 0 || !s.Meta.Implicit {
			continue
		}
		alone := !s.Durable
		if _, owned := b.owned[s.Key]; !owned && !alone {
			continue
		}
		e, seen := b.empty[s.Key]
		switch {
		case !seen:
			e.since = now
		case now-e.since >= grace && alone:
			b.drops = append(b.drops, s.Key)
			e.since = now // a refused drop is tried again one grace later
		case now-e.since >= grace:
			ops = append(ops, naming.Op{Kind: naming.OpDeleteService, Time: now, Service: s.Key})
			e.since = now
		}
		e.gen = b.gen
		b.empty[s.Key] = e
	}
	// Forget services that are gone, have instances again, or left this
	// node's charge: their grace starts over when they are empty here again.
	for k, e := range b.empty {
		if e.gen != b.gen {
			delete(b.empty, k)
		}
	}
	return ops
}

// dropAll drops, on this node alone, the services collect chose. The
// caller holds b.mu.
func (b *BeatChecker) dropAll(ctx context.Context, now int64) {
	for _, k := range b.drops {
		if ctx.Err() != nil {
			return
		}
		log := b.log.WithField("service", k.String())
		if err := b.w.DropEmpty(k); err != nil {
			if errors.Is(err, naming.ErrConflict) {
				log.WithError(err).Debug("empty service not dropped")
				continue
			}
			log.WithError(err).Warn("empty service could not be dropped")
			continue
		}
		b.dropped.Add(1)
		log.WithField("grace", b.cfg.EmptyServiceGrace).Debug("empty service dropped on this node")
	}
	clear(b.drops)
	b.drops = b.drops[:0]
}
