package distro

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"sextant/naming"
)

// lockedSet is a changeSet behind a mutex: the dirty set and every peer
// queue are one.
type lockedSet struct {
	mu  sync.Mutex
	set changeSet
}

func (l *lockedSet) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.set)
}

// hasContent reports whether changes of k other than beat marks wait.
func (l *lockedSet) hasContent(k naming.ServiceKey) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.set[k]
	return ok && c.content
}

// dirtySet holds what changed since the last sync, per service.
type dirtySet struct {
	lockedSet
	signal chan struct{} // told when the set stops being empty
}

func newDirtySet() *dirtySet {
	return &dirtySet{lockedSet: lockedSet{set: changeSet{}}, signal: make(chan struct{}, 1)}
}

// add records changes of k: the instances iks, or the whole service when
// iks is empty. content is false for a change of beat marks alone.
func (d *dirtySet) add(k naming.ServiceKey, iks []naming.InstanceKey, content bool) {
	d.mu.Lock()
	first := len(d.set) == 0
	c := d.set.of(k)
	c.content = c.content || content
	if len(iks) == 0 {
		c.setFull()
	}
	for _, ik := range iks {
		c.addKey(ik)
	}
	d.mu.Unlock()
	if first {
		select {
		case d.signal <- struct{}{}:
		default:
		}
	}
}

func (d *dirtySet) take() changeSet {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.set
	d.set = changeSet{}
	return out
}

// markDirty queues changes of k for the next sync: the instances iks, or
// the whole record when iks is empty.
func (e *Engine) markDirty(k naming.ServiceKey, iks ...naming.InstanceKey) { e.dirty.add(k, iks, true) }

// markBeat queues the new beat mark of one instance for the next sync. A
// mark is not in the checksums verify compares, so a queued mark never
// explains a copy that differs (see pending).
func (e *Engine) markBeat(k naming.ServiceKey, ik naming.InstanceKey) {
	e.dirty.add(k, []naming.InstanceKey{ik}, false)
}

// syncNow queues one changed instance of k for every live peer at once,
// past the dirty set and its SyncDelay. It returns a wait that the first
// peer to confirm the change releases (peerwait.go), nil when no peer is
// live; a caller that does not wait ignores it.
func (e *Engine) syncNow(k naming.ServiceKey, ik naming.InstanceKey) *peerWait {
	peers := e.livePeers()
	if len(peers) == 0 {
		return nil
	}
	cs := changeSet{}
	c := cs.of(k)
	c.addKey(ik)
	c.content = true
	w := &peerWait{done: make(chan struct{})}
	for _, p := range peers {
		if q := e.peerQueueOf(p); q != nil {
			q.add(cs, w)
		}
	}
	return w
}

// syncLoop sends the dirty services SyncDelay after the first change of a
// quiet period. Changes inside the window join the same batch without
// pushing the deadline back.
func (e *Engine) syncLoop() {
	defer e.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	for {
		select {
		case <-e.ctx.Done():
			timer.Stop()
			return
		case <-e.dirty.signal:
			if !armed {
				timer.Reset(e.cfg.SyncDelay)
				armed = true
			}
		case <-timer.C:
			armed = false
			cs := e.dirty.take()
			if len(cs) == 0 {
				continue
			}
			for _, p := range e.livePeers() {
				e.enqueue(p, cs)
			}
		}
	}
}

// peerQueue holds what waits to be sent to one peer, per service. Being
// keyed by service, with at most MaxDeltaKeys instances each, it stays
// bounded by the number of services.
type peerQueue struct {
	lockedSet
	addr string
	wake chan struct{}
	stop chan struct{} // closed when the peer left the member view
	// relayUntil: until this time (engine clock, Unix ms) deliveries go
	// through a relay first (relay.go).
	relayUntil atomic.Int64
	// waits are the callers waiting for a change of a service to reach
	// this peer (peerwait.go); guarded by mu, like the set.
	waits map[naming.ServiceKey][]*peerWait
}

// queued is one service taken from a peer queue.
type queued struct {
	key naming.ServiceKey
	c   *changes
}

// add queues cs and, when w is not nil, a wait on each of its services, in
// one step, so the batch that takes a change takes its wait.
func (q *peerQueue) add(cs changeSet, w *peerWait) {
	q.mu.Lock()
	q.set.merge(cs)
	if w != nil {
		for k := range cs {
			q.addWaits(k, w)
		}
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take removes up to n services from the queue, with the waits on them.
func (q *peerQueue) take(n int) ([]queued, waitsOf) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]queued, 0, min(n, len(q.set)))
	var ws waitsOf
	for k, c := range q.set {
		if len(out) == n {
			break
		}
		out = append(out, queued{k, c})
		delete(q.set, k)
		if w, ok := q.waits[k]; ok {
			ws = append(ws, keyWaits{k, w})
			delete(q.waits, k)
		}
	}
	return out, ws
}

// putBack returns a batch that could not be sent, merged with what was
// queued meanwhile, and its waits.
func (q *peerQueue) putBack(batch []queued, ws waitsOf) {
	q.mu.Lock()
	for _, b := range batch {
		q.set.of(b.key).addAll(b.c)
	}
	for _, w := range ws {
		q.addWaits(w.key, w.waits...)
	}
	q.mu.Unlock()
}

// clear empties the queue of a peer that is no longer live; its waits are
// dropped unreleased (their callers stop waiting at their bound).
func (q *peerQueue) clear() {
	q.mu.Lock()
	clear(q.set)
	clear(q.waits)
	q.mu.Unlock()
}

// enqueue queues changes for peer and wakes its sender, starting one if
// needed.
func (e *Engine) enqueue(peer string, cs changeSet) {
	if q := e.peerQueueOf(peer); q != nil {
		q.add(cs, nil)
	}
}

// enqueueFull queues the whole records of keys for peer.
func (e *Engine) enqueueFull(peer string, keys []naming.ServiceKey) {
	cs := changeSet{}
	for _, k := range keys {
		c := cs.of(k)
		c.setFull()
		c.content = true
	}
	e.enqueue(peer, cs)
}

func (e *Engine) peerQueueOf(peer string) *peerQueue {
	e.pmu.Lock()
	defer e.pmu.Unlock()
	q, ok := e.peers[peer]
	if !ok {
		q = &peerQueue{lockedSet: lockedSet{set: changeSet{}}, addr: peer, wake: make(chan struct{}, 1), stop: make(chan struct{})}
		if !e.goLoop(func() { e.peerLoop(q) }) {
			return nil
		}
		e.peers[peer] = q
	}
	return q
}

// pending reports whether changes of k wait to be sent to peer.
func (e *Engine) pending(peer string, k naming.ServiceKey) bool {
	if e.dirty.hasContent(k) {
		return true
	}
	e.pmu.Lock()
	q := e.peers[peer]
	e.pmu.Unlock()
	return q != nil && q.hasContent(k)
}

func (e *Engine) pendingTotal() int {
	e.pmu.Lock()
	defer e.pmu.Unlock()
	n := 0
	for _, q := range e.peers {
		n += q.size()
	}
	return n
}

// peerLoop delivers one peer's queue in batches of MaxBatch services,
// reading each record when it is sent so that quick successive changes
// travel once. A service with known changed instances travels as a delta
// record (those instances and tombstones only); otherwise its whole record
// travels. A failed batch goes back into the queue and is retried every
// RetryInterval while the peer is live (sooner while the peer refuses it
// as unavailable: refusedRetry); a peer that goes DOWN loses its queue
// (verify repairs it when it returns).
func (e *Engine) peerLoop(q *peerQueue) {
	refusals := 0 // batches in a row the peer refused as unavailable
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-q.stop:
			return
		case <-q.wake:
		}
		for {
			if !e.table().isLive(q.addr) {
				q.clear()
				break
			}
			batch, waits := q.take(e.cfg.MaxBatch)
			if len(batch) == 0 {
				break
			}
			slices.SortFunc(batch, func(a, b queued) int { return compareServiceKey(a.key, b.key) })
			recs := make([]Record, 0, len(batch))
			deltas := 0
			for _, b := range batch {
				if b.c.full {
					recs = append(recs, e.snapshot(b.key))
					continue
				}
				if r := e.deltaRecord(b.key, b.c.keys); !r.Empty() {
					recs = append(recs, r)
					deltas++
				}
			}
			if len(recs) == 0 {
				waits.release() // nothing of theirs is left to send
				continue
			}
			err := e.deliver(q, e.view.Hash(), recs)
			if err == nil {
				waits.release()
				e.peerWaitsLate.Store(false)
				refusals = 0
				e.stats.syncOK.Add(1)
				e.stats.syncRecords.Add(uint64(len(recs)))
				e.stats.syncDeltas.Add(uint64(deltas))
				continue
			}
			e.stats.syncFailed.Add(1)
			e.log.WithError(err).WithField("peer", q.addr).Debug("sync failed, will retry")
			q.putBack(batch, waits)
			wait := e.cfg.RetryInterval
			if answered(err) && errors.Is(err, naming.ErrUnavailable) {
				wait = min(wait, refusedRetry<<min(refusals, 5))
				refusals++
			} else {
				refusals = 0
			}
			if !e.sleep(wait) {
				return
			}
		}
	}
}

// refusedRetry is the first pause before a batch the peer refused as
// unavailable (its member view differs from this node's, or it is just back
// from a stall) is sent again; it doubles with each refusal in a row, up to
// RetryInterval. Views agree again within a report round, and a batch may
// carry a client's deregistration, which this node acknowledged: the later
// it lands on a peer, the longer a crash of this node loses it.
const refusedRetry = 100 * time.Millisecond

// MaxSyncEntries bounds the instances and tombstones of one sync message;
// records past it go in further messages (a single larger record goes
// alone), so a burst of whole records never makes a message the peer
// refuses for its size.
const MaxSyncEntries = 20000

// sendRecords delivers recs to peer in as many messages as MaxSyncEntries
// asks, each bounded by SyncTimeout; it stops at the first failure.
func (e *Engine) sendRecords(peer string, hash uint64, recs []Record) error {
	return inChunks(recs, func(chunk []Record) error {
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.SyncTimeout)
		defer cancel()
		return e.t.Sync(ctx, peer, hash, chunk)
	})
}

// inChunks hands recs to send in the messages MaxSyncEntries asks for, in
// order, and stops at the first failure.
func inChunks(recs []Record, send func([]Record) error) error {
	for len(recs) > 0 {
		n := syncChunk(recs)
		if err := send(recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// syncChunk is how many of recs, from the first, go in one message.
func syncChunk(recs []Record) int {
	n, entries := 0, 0
	for n < len(recs) {
		size := len(recs[n].Instances) + len(recs[n].Tombstones)
		if n > 0 && entries+size > MaxSyncEntries {
			break
		}
		entries += size
		n++
	}
	return n
}

// OnSync merges records a peer sent. Records that fail validation are
// skipped and logged; the rest are applied.
func (e *Engine) OnSync(ctx context.Context, from string, hash uint64, recs []Record) error {
	if err := e.checkHash(from, hash); err != nil {
		return err
	}
	for _, r := range recs {
		if _, err := e.mergeFrom(r, true, "sync from "+from); err != nil {
			e.log.WithError(err).WithField("from", from).WithField("service", r.Key.String()).Warn("record refused")
		}
	}
	return nil
}

func compareServiceKey(a, b naming.ServiceKey) int {
	switch {
	case a.Namespace != b.Namespace:
		return cmpString(a.Namespace, b.Namespace)
	case a.Group != b.Group:
		return cmpString(a.Group, b.Group)
	}
	return cmpString(a.Name, b.Name)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
