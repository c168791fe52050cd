package distro

import (
	"context"
	"slices"
	"sync"
	"time"

	"sextant/naming"
)

// dirtySet holds the services changed since the last sync.
type dirtySet struct {
	mu     sync.Mutex
	keys   map[naming.ServiceKey]struct{}
	signal chan struct{} // told when the set stops being empty
}

func newDirtySet() *dirtySet {
	return &dirtySet{keys: map[naming.ServiceKey]struct{}{}, signal: make(chan struct{}, 1)}
}

func (d *dirtySet) add(k naming.ServiceKey) {
	d.mu.Lock()
	first := len(d.keys) == 0
	d.keys[k] = struct{}{}
	d.mu.Unlock()
	if first {
		select {
		case d.signal <- struct{}{}:
		default:
		}
	}
}

func (d *dirtySet) take() []naming.ServiceKey {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]naming.ServiceKey, 0, len(d.keys))
	for k := range d.keys {
		out = append(out, k)
	}
	clear(d.keys)
	return out
}

func (d *dirtySet) size() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.keys)
}

func (e *Engine) markDirty(k naming.ServiceKey) { e.dirty.add(k) }

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
			keys := e.dirty.take()
			if len(keys) == 0 {
				continue
			}
			for _, p := range e.livePeers() {
				e.enqueue(p, keys)
			}
		}
	}
}

// peerQueue is the set of services waiting to be sent to one peer. Being a
// set, it never holds more entries than there are services.
type peerQueue struct {
	addr string
	mu   sync.Mutex
	keys map[naming.ServiceKey]struct{}
	wake chan struct{}
}

func (q *peerQueue) add(keys []naming.ServiceKey) {
	q.mu.Lock()
	for _, k := range keys {
		q.keys[k] = struct{}{}
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *peerQueue) take(n int) []naming.ServiceKey {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]naming.ServiceKey, 0, min(n, len(q.keys)))
	for k := range q.keys {
		if len(out) == n {
			break
		}
		out = append(out, k)
		delete(q.keys, k)
	}
	return out
}

func (q *peerQueue) size() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.keys)
}

func (q *peerQueue) clear() {
	q.mu.Lock()
	clear(q.keys)
	q.mu.Unlock()
}

// enqueue queues keys for peer and wakes its sender, starting one if needed.
func (e *Engine) enqueue(peer string, keys []naming.ServiceKey) {
	e.pmu.Lock()
	q, ok := e.peers[peer]
	if !ok {
		q = &peerQueue{addr: peer, keys: map[naming.ServiceKey]struct{}{}, wake: make(chan struct{}, 1)}
		if !e.goLoop(func() { e.peerLoop(q) }) {
			e.pmu.Unlock()
			return
		}
		e.peers[peer] = q
	}
	e.pmu.Unlock()
	q.add(keys)
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

// peerLoop delivers one peer's queue in batches of MaxBatch, reading each
// record when it is sent so that quick successive changes travel once. A
// failed batch goes back into the queue and is retried every RetryInterval
// while the peer is live; a peer that goes DOWN loses its queue (verify
// repairs it when it returns).
func (e *Engine) peerLoop(q *peerQueue) {
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-q.wake:
		}
		for {
			if !e.table().isLive(q.addr) {
				q.clear()
				break
			}
			batch := q.take(e.cfg.MaxBatch)
			if len(batch) == 0 {
				break
			}
			slices.SortFunc(batch, compareServiceKey)
			recs := make([]Record, 0, len(batch))
			for _, k := range batch {
				recs = append(recs, e.snapshot(k))
			}
			ctx, cancel := context.WithTimeout(e.ctx, e.cfg.SyncTimeout)
			err := e.t.Sync(ctx, q.addr, e.view.Hash(), recs)
			cancel()
			if err == nil {
				e.stats.syncOK.Add(1)
				e.stats.syncRecords.Add(uint64(len(recs)))
				continue
			}
			e.stats.syncFailed.Add(1)
			e.log.WithError(err).WithField("peer", q.addr).Debug("sync failed, will retry")
			q.mu.Lock()
			for _, k := range batch {
				q.keys[k] = struct{}{}
			}
			q.mu.Unlock()
			if !e.sleep(e.cfg.RetryInterval) {
				return
			}
		}
	}
}

// OnSync merges records a peer sent. Records that fail validation are
// skipped and logged; the rest are applied.
func (e *Engine) OnSync(ctx context.Context, from string, hash uint64, recs []Record) error {
	if err := e.checkHash(from, hash); err != nil {
		return err
	}
	for _, r := range recs {
		if _, err := e.mergeRecord(r, true); err != nil {
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
