package distro

import (
	"context"
	"sync"
	"time"

	"sextant/naming"
)

// A client's deregistration made on its responsible node is answered once
// a peer holds it, not before: acknowledged, it must survive a crash of
// that node right after (the peers still hold the instance, which would be
// listed again until its beats' expiry). The node queues the change for
// every live peer at once (syncNow), with a peerWait released by the
// first peer that confirms a batch carrying the service, and the write
// waits for it at most peerWaitBound. A node whose last wait ran out does
// not wait again until a sync is confirmed: peers that stopped answering
// cost one bounded wait, not one per write. A deregistration forwarded
// by another member needs no wait: that member holds it too once
// answered (applyAcked).

// peerWaitBound bounds the wait for a peer to confirm a client's
// deregistration; past it the write is answered anyway, as before.
const peerWaitBound = 500 * time.Millisecond

// peerWait is released when a peer confirms a batch with the change.
type peerWait struct {
	done chan struct{}
	once sync.Once
}

func (w *peerWait) release() { w.once.Do(func() { close(w.done) }) }

// keyWaits are the waits on one service taken from a peer queue.
type keyWaits struct {
	key   naming.ServiceKey
	waits []*peerWait
}

type waitsOf []keyWaits

func (ws waitsOf) release() {
	for _, kw := range ws {
		for _, w := range kw.waits {
			w.release()
		}
	}
}

// addWaits records waits on key. The caller holds q.mu.
func (q *peerQueue) addWaits(key naming.ServiceKey, ws ...*peerWait) {
	if q.waits == nil {
		q.waits = map[naming.ServiceKey][]*peerWait{}
	}
	q.waits[key] = append(q.waits[key], ws...)
}

// awaitPeer waits until w is released, for at most peerWaitBound, the
// caller's context or the engine's life; not at all when the last wait ran
// out and no sync was confirmed since.
func (e *Engine) awaitPeer(ctx context.Context, w *peerWait) {
	if w == nil || e.peerWaitsLate.Load() {
		if w != nil {
			e.stats.unconfirmedDeregs.Add(1)
		}
		return
	}
	t := time.NewTimer(peerWaitBound)
	defer t.Stop()
	select {
	case <-w.done:
	case <-t.C:
		e.peerWaitsLate.Store(true)
		e.stats.unconfirmedDeregs.Add(1)
		e.log.Debug("no peer confirmed a client's deregistration in time; answered without it")
	case <-ctx.Done():
		e.stats.unconfirmedDeregs.Add(1)
	case <-e.ctx.Done():
	}
}
