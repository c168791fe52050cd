package raftcp

import (
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"sextant/naming"
)

// Group commit. Every Apply hands its op to one batcher goroutine through a
// buffered queue. The batcher proposes whatever is queued (up to MaxBatch
// ops) as one log entry as soon as fewer than MaxInflight of its entries
// are waiting for their commit. Under light load an op goes out alone at
// once; under load ops pile up while the in-flight entries are written to
// disk and replicated, and the next entry carries them all. There is no
// timer. Entries handed to raft are waited on by their own goroutine, which
// frees the slot and hands each caller its own op's result.
//
// Measured on two cores (three nodes in one process, bolt with fsync):
// proposing each batch as soon as raft takes the previous one adds a disk
// cycle to every op's latency, and proposing without a bound leaves the
// coalescing to raft, with one entry per op; two slots did best at 16-256
// writers.

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
	// slots bounds the entries in flight (proposed, not yet committed);
	// while all are taken, ops queue up and the next entry carries them all.
	slots  chan struct{}
	counts struct{ entries, ops atomic.Uint64 }
}

func newBatcher(n *Node, r *raft.Raft) *batcher {
	return &batcher{n: n, r: r, queue: make(chan *request, n.cfg.MaxBatch), stop: make(chan struct{}), max: n.cfg.MaxBatch,
		slots: make(chan struct{}, n.cfg.MaxInflight)}
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
		select {
		case b.slots <- struct{}{}:
		case <-b.stop:
			b.failBatch(batch)
			b.failQueued()
			return
		}
	fill:
		for len(batch) < b.max {
			select {
			case r := <-b.queue:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		b.propose(batch)
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
		<-b.slots
		return
	}
	data, err := encodeEntry(ops)
	if err != nil {
		for _, r := range live {
			r.done <- naming.Errorf(naming.ErrInvalid, "op cannot be encoded: %v", err)
		}
		<-b.slots
		return
	}
	f := b.r.Apply(data, b.n.cfg.ApplyTimeout)
	b.counts.entries.Add(1)
	b.counts.ops.Add(uint64(len(live)))
	b.wg.Add(1)
	go b.await(f, live)
}

// await hands each caller its own op's result.
func (b *batcher) await(f raft.ApplyFuture, reqs []*request) {
	defer b.wg.Done()
	err := b.wait(f)
	<-b.slots
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
