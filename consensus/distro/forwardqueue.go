package distro

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"sextant/consensus/cluster"
	"sextant/naming"
)

// MaxForwardBatch is the largest number of writes one forward message
// carries.
const MaxForwardBatch = 256

// MaxForwardOps bounds the writes a received forward message may carry.
const MaxForwardOps = 4096

// pendingForward is one write waiting for the responsible node's answer.
type pendingForward struct {
	op    naming.Op
	done  chan error // buffered: the sender never blocks on it; nil: nobody waits (noticeBeat)
	gone  atomic.Bool
	tries int // messages that carried this beat notice and failed
}

// forwardSenders is the number of messages one responsible node may have
// under way at once: one slow answer does not hold every write behind it.
const forwardSenders = 4

// maxNoticeTries bounds the messages one beat notice rides in: a notice
// lost on the way is sent again (to whichever node is responsible then)
// after RetryInterval, and counted as failed only after this many.
const maxNoticeTries = 3

// answer hands p its answer, if anybody waits for it. A beat notice the
// responsible node did not take (unreachable, or refused for a member
// view) is sent again later, up to maxNoticeTries messages; the client
// was answered already, so the beat must not be lost to one failure.
func (e *Engine) answer(p *pendingForward, err error, retry *[]*pendingForward) {
	if p.done != nil {
		p.done <- err
		return
	}
	if err == nil {
		return
	}
	if errors.Is(err, cluster.ErrRefused) && e.ctx.Err() == nil {
		if e.takeOver("", p.op, err) != nil {
			e.stats.beatNoticesFailed.Add(1)
		}
		return
	}
	var ne *naming.Error
	if p.tries++; p.tries < maxNoticeTries && retry != nil && (!errors.As(err, &ne) || errors.Is(err, naming.ErrUnavailable)) {
		*retry = append(*retry, p)
		return
	}
	e.stats.beatNoticesFailed.Add(1)
}

// retryNotices sends beat notices again after RetryInterval, each to the
// node responsible for it then (this node applies its own).
func (e *Engine) retryNotices(ps []*pendingForward) {
	if len(ps) == 0 {
		return
	}
	e.stats.beatNoticesRetried.Add(uint64(len(ps)))
	e.goLoop(func() {
		if !e.sleep(e.cfg.RetryInterval) {
			return
		}
		for _, p := range ps {
			owner := e.Owner(p.op.Service)
			if owner == e.self {
				if _, err := e.applyOwnedFrom(p.op, "notice retry"); err != nil {
					e.stats.beatNoticesFailed.Add(1)
				}
				continue
			}
			if q := e.forwardQueueOf(owner); q == nil || !q.add(p, maxNoticeBacklog) {
				e.stats.beatNoticesFailed.Add(1)
			}
		}
	})
}

// forwardQueue holds the writes waiting to go to one responsible node. One
// sender per node sends one message at a time; writes that arrive while a
// message is under way wait and leave together in the next one, so a busy
// node sends few large messages and an idle one sends each write at once.
// Beat notices alone wait up to NoticeLinger for company (linger).
type forwardQueue struct {
	peer    string
	mu      sync.Mutex
	waiting []*pendingForward
	// notices maps each instance with a beat notice in waiting to it: a
	// newer beat of the same instance replaces the waiting one, so beats
	// queued for a slow node take one entry per instance.
	notices map[noticeKey]*pendingForward
	// writes counts the entries of waiting whose caller waits for the
	// answer; noticesSince is when a sender first saw notices alone
	// waiting (zero when it has not, or after a take).
	writes       int
	noticesSince time.Time
	wake         chan struct{}
	stop         chan struct{} // closed when peer left the member view: the senders end
	closed       bool          // set, under mu, once the senders ended; add refuses
	// refusing is set while the last message to peer failed or peer
	// refused a beat notice as unavailable: beats then wait for their
	// answer, so clients see the error and turn to another node, until a
	// message goes through again.
	refusing atomic.Bool
	// relayUntil: until this time (engine clock, Unix ms) messages go
	// through a relay first (relay.go).
	relayUntil atomic.Int64
}

// forwardQueueOf returns peer's queue, starting its sender if needed; nil
// once the engine is closed.
func (e *Engine) forwardQueueOf(peer string) *forwardQueue {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	q, ok := e.fwd[peer]
	if !ok {
		q = &forwardQueue{peer: peer, wake: make(chan struct{}, 1), stop: make(chan struct{}), notices: map[noticeKey]*pendingForward{}}
		for range forwardSenders {
			if !e.goLoop(func() { e.sendForwards(q) }) {
				return nil
			}
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
	if !q.add(p, maxForwardWaiting) {
		p.done <- unavailable("%d writes wait for %s already, retry", maxForwardWaiting, peer)
	}
}

// maxForwardWaiting bounds the writes waiting for one responsible node,
// whatever waits for them: past it a write is refused at once.
const maxForwardWaiting = 4 * maxNoticeBacklog

// noticeKey names the instance of a beat notice.
type noticeKey struct {
	svc naming.ServiceKey
	ik  naming.InstanceKey
}

// add queues p and wakes a sender; with limit > 0, only while fewer
// than limit writes wait (false: nothing queued). A beat notice for an
// instance that already has one waiting replaces that one's op (keeping
// the later time) and takes no new place.
func (q *forwardQueue) add(p *pendingForward, limit int) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	if p.done == nil {
		nk := noticeKey{p.op.Service, targetOf(&p.op)}
		if old := q.notices[nk]; old != nil {
			if p.op.Time >= old.op.Time {
				old.op = p.op
			}
			q.mu.Unlock()
			return true
		}
		if limit > 0 && len(q.waiting) >= limit {
			q.mu.Unlock()
			return false
		}
		q.notices[nk] = p
	} else {
		if limit > 0 && len(q.waiting) >= limit {
			q.mu.Unlock()
			return false
		}
		q.writes++
	}
	q.waiting = append(q.waiting, p)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// sendForwards is one of the forwardSenders senders of a queue: it sends
// the waiting writes, MaxForwardBatch per message, until none is left,
// then sleeps until woken.
// Writes whose callers stopped waiting are left out. At Close it answers
// the writes still waiting.
func (e *Engine) sendForwards(q *forwardQueue) {
	for {
		select {
		case <-e.ctx.Done():
			for _, p := range q.drain() {
				e.answer(p, unavailable("%s is shutting down, retry", e.self), nil)
			}
			return
		case <-q.stop:
			// The peer left the member view: writes waiting for it are
			// refused (their callers retry, reaching the new owner);
			// beat notices go to whichever node owns them now.
			var notices []*pendingForward
			for _, p := range q.drain() {
				if p.done == nil {
					notices = append(notices, p)
					continue
				}
				e.answer(p, unavailable("%s left the member view, retry", q.peer), nil)
			}
			e.retryNotices(notices)
			return
		case <-q.wake:
		}
		if !e.linger(q) {
			continue // closing, or the peer left: the cases above answer what waits
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
		if p.done == nil {
			delete(q.notices, noticeKey{p.op.Service, targetOf(&p.op)})
		} else {
			q.writes--
		}
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
	q.noticesSince = time.Time{}
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
	errs, err := e.forwardBatch(q, ops)
	if err == nil && len(errs) != len(ops) {
		err = fmt.Errorf("%s answered %d results for %d writes", peer, len(errs), len(ops))
	}
	refused := err != nil
	var retry []*pendingForward
	for i, p := range batch {
		perr := err
		if err == nil {
			perr = errs[i]
		}
		if p.done == nil && errors.Is(perr, naming.ErrUnavailable) {
			refused = true
		}
		e.answer(p, perr, &retry)
	}
	q.refusing.Store(refused)
	e.retryNotices(retry)
}

// drain closes the queue to new writes and returns those waiting.
func (q *forwardQueue) drain() []*pendingForward {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	left := q.waiting
	q.waiting, q.writes = nil, 0
	clear(q.notices)
	return left
}

// reclaim ends the queues and senders of peers no longer in the member
// view (a member removed from the list, or DOWN), so per-peer goroutines
// and queues do not outlive the peers; a peer that returns gets new ones.
// It runs on the membership's goroutine and does not block.
func (e *Engine) reclaim() {
	t := e.table()
	reclaimFrom(&e.fmu, e.fwd, t.isLive, func(q *forwardQueue) { close(q.stop) })
	reclaimFrom(&e.pmu, e.peers, t.isLive, func(q *peerQueue) { close(q.stop) })
	e.forgetPeers(t)
}

// forgetPeers drops verify's memory of the peers that are not live in t:
// such a peer lost its sync queue, so the first exchange after it returns
// repairs everything (afterGap), and a member taken off the list leaves
// nothing behind. Each verify round runs it too, for an exchange that
// ended after the view changed.
func (e *Engine) forgetPeers(t *ownerTable) {
	reclaimFrom(&e.vmu, e.skips, t.isLive, func(map[naming.ServiceKey]int64) {})
	reclaimFrom(&e.vmu, e.lastVerify, t.isLive, func(int64) {})
}

// reclaimFrom removes, under mu, the queues of m whose peer is not live,
// and stops each.
func reclaimFrom[Q any](mu *sync.Mutex, m map[string]Q, live func(string) bool, stop func(Q)) {
	mu.Lock()
	defer mu.Unlock()
	for addr, q := range m {
		if !live(addr) {
			delete(m, addr)
			stop(q)
		}
	}
}

// linger holds the beat notices waiting for q's peer, while nothing else
// waits, until the first of them has waited NoticeLinger (lingerLeft), so
// that they leave together. A write that arrives meanwhile wakes a sender,
// which sends it at once with the notices; so does Close or the peer
// leaving the view, for which it returns false.
func (e *Engine) linger(q *forwardQueue) bool {
	for {
		// Real time, not the engine's clock (Config.Now): the linger is a
		// wait of this process, like its timer.
		d := q.lingerLeft(time.Now(), e.cfg.NoticeLinger)
		if d <= 0 {
			return true
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-q.wake:
		case <-q.stop:
			t.Stop()
			return false
		case <-e.ctx.Done():
			t.Stop()
			return false
		}
		t.Stop()
	}
}

// lingerLeft returns how much longer, at now, the waiting entries should
// wait before a message takes them: zero when none wait, when a write
// waits for its answer, when a message would be full, or when the first
// notice seen alone has waited linger already.
func (q *forwardQueue) lingerLeft(now time.Time, linger time.Duration) time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	if linger <= 0 || len(q.waiting) == 0 || q.writes > 0 || len(q.waiting) >= MaxForwardBatch {
		return 0
	}
	if q.noticesSince.IsZero() {
		q.noticesSince = now
	}
	return q.noticesSince.Add(linger).Sub(now)
}
