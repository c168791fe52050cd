package raftcp

import (
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"sextant/naming"
)

// Group commit. Every Apply hands its op to one batcher goroutine through a
// buffered queue. The batcher proposes whatever is queued (up to MaxBatch
// ops) as one log entry:
//   - at once when none of its entries is in flight (light load: an op goes
//     out alone, with no added latency);
//   - while fewer than MaxInflight entries are in flight, only if the entry
//     carries at least OverlapBatch ops; smaller groups wait for the
//     in-flight entry to commit and then go out together.
//
// There is no timer. Entries handed to raft are waited on by their own
// goroutine, which frees the slot and hands each caller its own op's result.
//
// Each entry costs a synchronous disk write on the leader and on every
// follower, the same whatever it carries; that cost, not the ops, dominates
// a small entry. Overlapping entries hide disk latency, but at a modest
// number of writers they split the waiting ops into small entries; the
// threshold keeps one entry in flight (the biggest batches) until enough
// writers wait to fill a second one. Measurements are in DESIGN.md.

// request states: the batcher and an impatient caller race for a pending
// request; whoever wins decides whether the op is proposed.
const (
	reqPending int32 = iota
	reqTaken
	reqAbandoned
)

type request struct {
	op    naming.Op
	state atomic.Int32
	done  chan error // buffered: the batcher never blocks on a caller
}

func newRequest(op naming.Op) *request {
	return &request{op: op, done: make(chan error, 1)}
}

// abandon withdraws the request; it reports false when the batcher already
// took it, in which case the op may still be committed.
func (r *request) abandon() bool { return r.state.CompareAndSwap(reqPending, reqAbandoned) }

func (r *request) take() bool { return r.state.CompareAndSwap(reqPending, reqTaken) }

type batcher struct {
	n     *Node
	r     *raft.Raft
	queue chan *request
	stop  chan struct{}
	wg    sync.WaitGroup // the run loop and the in-flight waiters
	max   int
	// inflight counts the entries proposed and not yet resolved; at most
	// maxInflight. freed is signalled whenever one resolves.
	inflight    atomic.Int32
	maxInflight int32
	overlap     int
	freed       chan struct{}
	// held is how many ops the loop holds back, waiting for an entry in
	// flight to commit (tests observe it).
	held   atomic.Int32
	counts struct{ entries, ops atomic.Uint64 }
}

func newBatcher(n *Node, r *raft.Raft) *batcher {
	return &batcher{n: n, r: r, queue: make(chan *request, n.cfg.MaxBatch), stop: make(chan struct{}), max: n.cfg.MaxBatch,
		maxInflight: int32(n.cfg.MaxInflight), overlap: n.cfg.OverlapBatch, freed: make(chan struct{}, 1)}
}

func (b *batcher) start() {
	b.wg.Add(1)
	go b.run()
}

// close stops the loop, fails whatever is still queued and waits for the
// in-flight waiters. raft must be shut down first: no future can resolve
// after that.
func (b *batcher) close() {
	close(b.stop)
	b.wg.Wait()
}

func (b *batcher) run() {
	defer b.wg.Done()
	batch := make([]*request, 0, b.max)
	for {
		select {
		case <-b.stop:
			b.failQueued()
			return
		case r := <-b.queue:
			batch = append(batch[:0], r)
		}
		for {
			batch = b.fill(batch)
			if b.mayPropose(len(batch)) {
				break
			}
			more := b.queue
			if len(batch) >= b.max {
				more = nil // full: wait for a slot only
			}
			b.held.Store(int32(len(batch)))
			select {
			case <-b.freed:
			case r := <-more:
				batch = append(batch, r)
			case <-b.stop:
				b.failBatch(batch)
				b.failQueued()
				return
			}
		}
		b.held.Store(0)
		b.inflight.Add(1)
		b.propose(batch)
	}
}

// fill adds what is queued to batch, up to the batch limit, without waiting.
func (b *batcher) fill(batch []*request) []*request {
	for len(batch) < b.max {
		select {
		case r := <-b.queue:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// mayPropose says whether an entry of n ops may be proposed now.
func (b *batcher) mayPropose(n int) bool {
	in := b.inflight.Load()
	return in == 0 || (in < b.maxInflight && n >= b.overlap)
}

// release frees an in-flight slot and wakes the run loop.
func (b *batcher) release() {
	b.inflight.Add(-1)
	select {
	case b.freed <- struct{}{}:
	default: // a wake-up is already pending; the loop re-reads inflight
	}
}

// propose sends the requests nobody abandoned as one entry.
func (b *batcher) propose(batch []*request) {
	live := make([]*request, 0, len(batch))
	ops := make([]naming.Op, 0, len(batch))
	for _, r := range batch {
		if r.take() {
			live = append(live, r)
			ops = append(ops, r.op)
		}
	}
	if len(live) == 0 {
		b.release()
		return
	}
	data, err := encodeEntry(ops)
	if err != nil {
		// One op that cannot be encoded fails alone; the others go on.
		live, ops = failUnencodable(live, ops)
		if data, err = encodeEntry(ops); err != nil || len(live) == 0 {
			for _, r := range live {
				r.done <- naming.Errorf(naming.ErrInvalid, "op cannot be encoded: %v", err)
			}
			b.release()
			return
		}
	}
	f := b.r.Apply(data, b.n.cfg.ApplyTimeout)
	b.counts.entries.Add(1)
	b.counts.ops.Add(uint64(len(live)))
	b.wg.Add(1)
	go b.await(f, live)
}

// failUnencodable answers the requests whose op cannot be encoded with the
// error, and returns the others with their ops.
func failUnencodable(reqs []*request, ops []naming.Op) ([]*request, []naming.Op) {
	keptR, keptO := reqs[:0:0], ops[:0:0]
	for i, r := range reqs {
		if _, err := encodeEntry(ops[i : i+1]); err != nil {
			r.done <- naming.Errorf(naming.ErrInvalid, "op cannot be encoded: %v", err)
			continue
		}
		keptR, keptO = append(keptR, r), append(keptO, ops[i])
	}
	return keptR, keptO
}

// await hands each caller its own op's result.
func (b *batcher) await(f raft.ApplyFuture, reqs []*request) {
	defer b.wg.Done()
	err := b.wait(f)
	b.release()
	if err != nil {
		e := b.n.fromRaft(err, "write")
		for _, r := range reqs {
			r.done <- e
		}
		return
	}
	switch res := f.Response().(type) {
	case []error:
		if len(res) == len(reqs) {
			for i, r := range reqs {
				r.done <- res[i]
			}
			return
		}
	case error:
		for _, r := range reqs {
			r.done <- res
		}
		return
	}
	for _, r := range reqs {
		r.done <- naming.Errorf(naming.ErrUnavailable, "raft returned an unexpected result for a write")
	}
}

// wait returns the future's error. raft does not resolve every future when
// it shuts down (an entry still queued for the state machine is dropped),
// so once the node is closing and raft has stopped, a future still open
// is given up on: its write may or may not have been applied. The helper
// goroutine of such a future stays blocked; there are at most MaxInflight.
func (b *batcher) wait(f raft.Future) error {
	ch := make(chan error, 1)
	go func() { ch <- f.Error() }()
	select {
	case err := <-ch:
		return err
	case <-b.stop: // closed only after raft has shut down
		select {
		case err := <-ch:
			return err
		default:
			return errShutdownUnconfirmed
		}
	}
}

func (b *batcher) failBatch(batch []*request) {
	for _, r := range batch {
		if r.take() {
			r.done <- errNotRunning(true)
		}
	}
}

func (b *batcher) failQueued() {
	for {
		select {
		case r := <-b.queue:
			if r.take() {
				r.done <- errNotRunning(true)
			}
		default:
			return
		}
	}
}
