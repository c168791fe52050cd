package distro

import (
	"context"
	"errors"
	"fmt"
	"time"

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
// Only transport failures are relayed: a peer that answered (views
// differ, loading) was reached and refused. A via relays to live members
// only, and never relays further, so a message takes two hops at most.

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
	var answered *naming.Error
	if err == nil || errors.As(err, &answered) || e.ctx.Err() != nil {
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
	err := errors.New("no other live member")
	for _, via := range e.livePeers() {
		if via == peer {
			continue
		}
		if err = e.relayVia(via, peer, hash, recs); err == nil {
			e.stats.syncRelayed.Add(1)
			return nil
		}
		e.log.WithError(err).WithField("peer", peer).WithField("via", via).Debug("relayed sync failed")
	}
	return err
}

func (e *Engine) relayVia(via, peer string, hash uint64, recs []Record) error {
	for len(recs) > 0 {
		n := syncChunk(recs)
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.SyncTimeout)
		err := e.t.Relay(ctx, via, peer, hash, recs[:n])
		cancel()
		if err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// OnRelay delivers records from a member that cannot reach to itself, as
// this node's own sync. to must be another live member.
func (e *Engine) OnRelay(ctx context.Context, from, to string, hash uint64, recs []Record) error {
	if err := e.checkHash(from, hash); err != nil {
		return err
	}
	if to == e.self || to == from || !e.table().isLive(to) {
		return naming.Errorf(naming.ErrInvalid, "%s is not a live member that %s can relay to", to, e.self)
	}
	if err := e.t.Sync(ctx, to, hash, recs); err != nil {
		var answered *naming.Error
		if errors.As(err, &answered) {
			return err
		}
		return naming.Errorf(naming.ErrUnavailable, "%s cannot reach %s either: %v", e.self, to, err)
	}
	e.stats.relaysServed.Add(1)
	return nil
}
