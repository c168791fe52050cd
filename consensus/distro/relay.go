package distro

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sextant/consensus/cluster"
	"sextant/naming"
)

// Relaying syncs around a cut link. Member views agree while every member
// is reached by someone (consensus/cluster): with only the B–C link cut,
// all three nodes keep {A,B,C} and one owner per service. B's syncs to C
// then fail at the transport while A reaches both, so B sends them through
// A (Transport.Relay) and A delivers them to C as its own sync. The
// records are the owner's, merged newest-wins as any sync, so a relayed
// copy is as good as a direct one and a late one changes nothing.
//
// Forwards go the same way: a write C takes for a service B owns reaches
// B through A (Transport.RelayForward), with B's answer. So does the
// renewal of instances bound to C's gRPC connections, which would
// otherwise expire at B while their clients stay connected.
//
// Only transport failures are relayed: a peer that answered (views
// differ, loading) was reached and refused, and one that refused the
// connection is not running (a forward then takes over, forward.go). A
// via relays to live members only, and never relays further, so a
// message takes two hops at most.

// relayFor is how long deliveries to a peer go through a relay first once
// the direct way failed and a relay did not, so that a link that drops
// packets (not refusing them) does not cost a SyncTimeout per batch.
const relayFor = 10 * time.Second

// deliver sends recs to the peer of q, directly or through another live
// member.
func (e *Engine) deliver(q *peerQueue, hash uint64, recs []Record) error {
	if e.nowMs() < q.relayUntil.Load() {
		if err := e.relayRecords(q.addr, hash, recs); err == nil {
			return nil
		}
		q.relayUntil.Store(0)
	}
	err := e.sendRecords(q.addr, hash, recs)
	if err == nil || answered(err) || e.ctx.Err() != nil {
		return err
	}
	if rerr := e.relayRecords(q.addr, hash, recs); rerr != nil {
		return fmt.Errorf("%w (and through the other members: %v)", err, rerr)
	}
	q.relayUntil.Store(e.nowMs() + relayFor.Milliseconds())
	return nil
}

// relayRecords asks each other live member in turn to deliver recs to
// peer, in messages bounded as sendRecords bounds them, until one takes
// them all.
func (e *Engine) relayRecords(peer string, hash uint64, recs []Record) error {
	err := e.throughOthers(e.ctx, peer, "relayed sync", func(via string) error {
		return inChunks(recs, func(chunk []Record) error {
			ctx, cancel := context.WithTimeout(e.ctx, e.cfg.SyncTimeout)
			defer cancel()
			return e.t.Relay(ctx, via, peer, hash, chunk)
		})
	})
	if err == nil {
		e.stats.syncRelayed.Add(1)
	}
	return err
}

// throughOthers calls try with each live member other than this node and
// peer in turn, until one call succeeds or ctx ends; it returns the last
// error. what names the attempt in the log.
func (e *Engine) throughOthers(ctx context.Context, peer, what string, try func(via string) error) error {
	err := errors.New("no other live member")
	for _, via := range e.livePeers() {
		if via == peer {
			continue
		}
		if err = try(via); err == nil {
			return nil
		}
		e.log.WithError(err).WithField("peer", peer).WithField("via", via).Debug(what + " failed")
		if ctx.Err() != nil {
			break
		}
	}
	return err
}

// forwardBatch sends ops to the responsible node of q, directly or
// through another live member, within one ForwardTimeout: the callers
// wait no longer. When the direct way fails at the transport the rest of
// that time goes to a relay, and the next messages try a relay first for
// relayFor.
func (e *Engine) forwardBatch(q *forwardQueue, ops []naming.Op) ([]error, error) {
	hash := e.view.Hash()
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.ForwardTimeout)
	defer cancel()
	if e.nowMs() < q.relayUntil.Load() {
		errs, err := e.relayForward(ctx, q.peer, hash, ops)
		if err == nil {
			return errs, nil
		}
		q.relayUntil.Store(0)
		if ctx.Err() != nil {
			return nil, err
		}
	}
	errs, err := e.t.ForwardBatch(ctx, q.peer, hash, ops)
	if err == nil || !relayable(err) || e.ctx.Err() != nil {
		return errs, err
	}
	q.relayUntil.Store(e.nowMs() + relayFor.Milliseconds())
	if ctx.Err() != nil {
		return nil, err
	}
	rerrs, rerr := e.relayForward(ctx, q.peer, hash, ops)
	if rerr != nil {
		q.relayUntil.Store(0)
		return nil, fmt.Errorf("%w (and through the other members: %v)", err, rerr)
	}
	return rerrs, nil
}

// relayable reports whether a failed message may go through another
// member: it failed at the transport, and not because nothing listens at
// the peer.
func relayable(err error) bool {
	return !answered(err) && !errors.Is(err, cluster.ErrRefused)
}

// answered reports whether err is the peer's own answer (it was reached),
// not a failure to reach it.
func answered(err error) bool {
	var ne *naming.Error
	return errors.As(err, &ne)
}

// relayForward asks each other live member in turn to forward ops to
// peer, until one brings back peer's answers.
func (e *Engine) relayForward(ctx context.Context, peer string, hash uint64, ops []naming.Op) ([]error, error) {
	var out []error
	err := e.throughOthers(ctx, peer, "relayed forward", func(via string) error {
		errs, err := e.t.RelayForward(ctx, via, peer, hash, ops)
		if err == nil && len(errs) != len(ops) {
			err = fmt.Errorf("%s answered %d results for %d writes", via, len(errs), len(ops))
		}
		out = errs
		return err
	})
	if err != nil {
		return nil, err
	}
	e.stats.forwardsRelayed.Add(1)
	return out, nil
}

// OnRelayForward forwards writes from a member that cannot reach to, the
// responsible node, and returns its answers.
func (e *Engine) OnRelayForward(ctx context.Context, from, to string, hash uint64, ops []naming.Op) ([]error, error) {
	if err := e.relayCheck(from, to, hash); err != nil {
		return nil, err
	}
	if len(ops) > MaxForwardOps {
		return nil, naming.Errorf(naming.ErrTooLarge, "forward of %d writes, at most %d are allowed", len(ops), MaxForwardOps)
	}
	errs, err := e.t.ForwardBatch(ctx, to, hash, ops)
	if err != nil {
		return nil, unreached(e.self, to, err)
	}
	e.stats.relaysServed.Add(1)
	return errs, nil
}

// relayCheck accepts a message to relay: sent on this node's member view,
// for another live member.
func (e *Engine) relayCheck(from, to string, hash uint64) error {
	if err := e.checkHash(from, hash); err != nil {
		return err
	}
	if to == e.self || to == from || !e.table().isLive(to) {
		return naming.Errorf(naming.ErrInvalid, "%s is not a live member that %s can relay to", to, e.self)
	}
	return nil
}

// unreached passes on the answer of the member a relay was for, and turns
// a failure to reach it into an error of kind unavailable.
func unreached(self, to string, err error) error {
	if answered(err) {
		return err
	}
	return naming.Errorf(naming.ErrUnavailable, "%s cannot reach %s either: %v", self, to, err)
}

// OnRelay delivers records from a member that cannot reach to itself, as
// this node's own sync. to must be another live member.
func (e *Engine) OnRelay(ctx context.Context, from, to string, hash uint64, recs []Record) error {
	if err := e.relayCheck(from, to, hash); err != nil {
		return err
	}
	if err := e.t.Sync(ctx, to, hash, recs); err != nil {
		return unreached(e.self, to, err)
	}
	e.stats.relaysServed.Add(1)
	return nil
}
