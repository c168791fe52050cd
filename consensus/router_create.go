package consensus

import (
	"context"
	"errors"
	"time"

	"sextant/naming"
)

// createFor makes the missing service of a MIXED registration durable.
// A persistent instance goes through Raft itself, so it waits for the
// service's commit first. An ephemeral one never waits on Raft: Distro
// takes it at once (the catalog holds the service implicitly meanwhile),
// and the durable record is committed in the background once a leader
// exists (createLater), so a registration during a Raft outage, or the
// first instance of a new service, is not refused.
func (r *Router) createFor(ctx context.Context, adm Admission) error {
	if adm.Op.IsEphemeral() {
		r.createLater(*adm.Create)
		return nil
	}
	if err := r.ApplyCP(ctx, *adm.Create); err != nil && !errors.Is(err, naming.ErrConflict) {
		return err
	}
	return nil
}

// Bounds of the background creates.
const (
	createRetryMin = 500 * time.Millisecond
	createRetryMax = 30 * time.Second
)

// createLater commits a service create in the background, at most one per
// service at a time, retrying with backoff until it commits, Raft answers
// that the service exists, the service has left the catalog (nothing left
// to make durable), or the router is closed.
func (r *Router) createLater(op naming.Op) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if _, busy := r.creating.LoadOrStore(op.Service, struct{}{}); busy {
		return
	}
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		defer r.creating.Delete(op.Service)
		wait := createRetryMin
		for {
			ctx, cancel := context.WithTimeout(r.stop, r.cfg.LeaderWait)
			err := r.ApplyCP(ctx, op)
			cancel()
			if err == nil || errors.Is(err, naming.ErrConflict) || r.stop.Err() != nil {
				return
			}
			if _, ok := r.cat.Service(op.Service); !ok {
				return
			}
			if r.log != nil {
				r.log.WithError(err).WithField("service", op.Service.String()).Debug("durable service record not created yet, will retry")
			}
			if sleepCtx(r.stop, wait) != nil {
				return
			}
			wait = min(2*wait, createRetryMax)
		}
	}()
}
