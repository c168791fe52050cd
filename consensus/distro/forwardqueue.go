package distro

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"sextant/naming"
)

// MaxForwardBatch is the largest number of writes one forward message
// carries.
const MaxForwardBatch = 256

// MaxForwardOps bounds the writes a received forward message may carry.
const MaxForwardOps = 4096

// pendingForward is one write waiting for the responsible node's answer.
type pendingForward struct {
	op   naming.Op
	done chan error // buffered: the sender never blocks on it; nil: nobody waits (noticeBeat)
	gone atomic.Bool
}

// answer hands p its answer, if anybody waits for it.
func (e *Engine) answer(p *pendingForward, err error) {
	if p.done != nil {
		p.done <- err
		return
	}
	if err != nil {
		e.stats.beatNoticesFailed.Add(1)
	}
}

// forwardQueue holds the writes waiting to go to one responsible node. One
// sender per node sends one message at a time; writes that arrive while a
// message is under way wait and leave together in the next one, so a busy
// node sends few large messages and an idle one sends each write at once.
type forwardQueue struct {
	peer    string
	mu      sync.Mutex
	waiting []*pendingForward
	wake    chan struct{}
	// refusing is set while the last message to peer failed or peer
	// refused a beat notice as unavailable: beats then wait for their
	// answer, so clients see the error and turn to another node, until a
	// message goes through again.
	refusing atomic.Bool
}

// forwardQueueOf returns peer's queue, starting its sender if needed; nil
// once the engine is closed.
func (e *Engine) forwardQueueOf(peer string) *forwardQueue {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	q, ok := e.fwd[peer]
	if !ok {
		q = &forwardQueue{peer: peer, wake: make(chan struct{}, 1)}
		if !e.goLoop(func() { e.sendForwards(q) }) {
			return nil
		}
		e.fwd[peer] = q
	}
	return q
}

// submitForward queues p for peer and wakes its sender.
func (e *Engine) submitForward(peer string, p *pendingForward) {
	q := e.forwardQueueOf(peer)
	if q == nil || e.ctx.Err() != nil {
		p.done <- unavailable("%s is shutting down, retry", e.self)
		return
	}
	q.add(p, 0)
}

// add queues p and wakes the sender; with limit > 0, only while fewer
// than limit writes wait (false: nothing queued).
func (q *forwardQueue) add(p *pendingForward, limit int) bool {
	q.mu.Lock()
	if limit > 0 && len(q.waiting) >= limit {
		q.mu.Unlock()
		return false
	}
	q.waiting = append(q.waiting, p)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// sendForwards is the sender of one queue: it sends the waiting writes,
// MaxForwardBatch per message, until none is left, then sleeps until woken.
// Writes whose callers stopped waiting are left out. At Close it answers
// the writes still waiting.
func (e *Engine) sendForwards(q *forwardQueue) {
	for {
		select {
		case <-e.ctx.Done():
			q.mu.Lock()
			left := q.waiting
			q.waiting = nil
			q.mu.Unlock()
			for _, p := range left {
				e.answer(p, unavailable("%s is shutting down, retry", e.self))
			}
			return
		case <-q.wake:
		}
		for {
			batch := q.take()
			if len(batch) == 0 {
				break
			}
			e.deliverForwards(q, batch)
		}
	}
}

// take removes up to MaxForwardBatch waiting writes whose callers still
// wait, dropping those that gave up.
func (q *forwardQueue) take() []*pendingForward {
	q.mu.Lock()
	defer q.mu.Unlock()
	var batch []*pendingForward
	n := 0
	for _, p := range q.waiting {
		n++
		if !p.gone.Load() {
			batch = append(batch, p)
			if len(batch) == MaxForwardBatch {
				break
			}
		}
	}
	rest := copy(q.waiting, q.waiting[n:])
	clear(q.waiting[rest:])
	q.waiting = q.waiting[:rest]
	return batch
}

// deliverForwards sends one message and hands each caller its answer.
func (e *Engine) deliverForwards(q *forwardQueue, batch []*pendingForward) {
	peer := q.peer
	ops := make([]naming.Op, len(batch))
	for i, p := range batch {
		ops[i] = p.op
	}
	e.stats.forwardBatches.Add(1)
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.ForwardTimeout)
	errs, err := e.t.ForwardBatch(ctx, peer, e.view.Hash(), ops)
	cancel()
	if err == nil && len(errs) != len(ops) {
		err = fmt.Errorf("%s answered %d results for %d writes", peer, len(errs), len(ops))
	}
	refused := err != nil
	for i, p := range batch {
		perr := err
		if err == nil {
			perr = errs[i]
		}
		if p.done == nil && errors.Is(perr, naming.ErrUnavailable) {
			refused = true
		}
		e.answer(p, perr)
	}
	q.refusing.Store(refused)
}
