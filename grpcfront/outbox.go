package grpcfront

import (
	"sync"
	"time"

	"google.golang.org/grpc"
)

// outbox is what one connection has to send on its bi-stream: server
// requests (probes, resets) and pushes. No goroutine waits on it: the
// first thing queued while nothing is being sent starts one sender
// (Server.sender), which sends until the outbox is empty and then ends, so
// an idle connection costs no goroutine of ours besides its reader.
//
// Pushes are coalesced per subscription: a newer render replaces one not
// yet sent, and one sent but not yet acked (that one counts as
// superseded). A push without an ack within the ack timeout is sent again,
// with a new requestId, at most PushRetries times; the server's resend
// tick finds those (overdue). The lock is never held while sending.
type outbox struct {
	mu     sync.Mutex
	stream grpc.ServerStream // set once the connection is set up
	start  func()            // starts a sender
	// sending is set while a sender runs; closed once the stream ended
	// (no sender starts again); idle is signalled when a sender ends.
	sending, closed bool
	idle            *sync.Cond
	ctrl            []*Payload
	// pending, inflight and byID are made on the first push.
	pending  map[subKey]*pushItem
	inflight map[subKey]*flight
	byID     map[string]subKey
}

// pushItem is one render of a subscription's service for one connection.
type pushItem struct {
	r *rendered
	// noticed is when the change was noticed, for the push delay.
	noticed time.Time
}

type flight struct {
	id    string
	item  *pushItem
	sent  time.Time
	tries int
}

// attach lets the outbox send on stream; start runs a sender.
func (o *outbox) attach(stream grpc.ServerStream, start func()) {
	o.mu.Lock()
	o.stream, o.start = stream, start
	run := (len(o.ctrl) > 0 || len(o.pending) > 0) && o.claim()
	o.mu.Unlock()
	if run {
		start()
	}
}

// claim reports whether the caller must start a sender; o.mu is held.
func (o *outbox) claim() bool {
	if o.sending || o.closed || o.stream == nil {
		return false
	}
	o.sending = true
	return true
}

// kick starts a sender unless one runs: something is due.
func (o *outbox) kick() {
	o.mu.Lock()
	run := o.claim()
	o.mu.Unlock()
	if run {
		o.start()
	}
}

// request queues a server request.
func (o *outbox) request(p *Payload) {
	o.mu.Lock()
	o.ctrl = append(o.ctrl, p)
	run := o.claim()
	o.mu.Unlock()
	if run {
		o.start()
	}
}

// push queues the newest render of a subscription.
func (o *outbox) push(k subKey, it *pushItem) {
	o.mu.Lock()
	if o.pending == nil {
		o.pending, o.inflight, o.byID = map[subKey]*pushItem{}, map[subKey]*flight{}, map[string]subKey{}
	}
	o.pending[k] = it
	run := o.claim()
	o.mu.Unlock()
	if run {
		o.start()
	}
}

// drop forgets a subscription's pushes (unsubscribe).
func (o *outbox) drop(k subKey) {
	o.mu.Lock()
	delete(o.pending, k)
	if f, ok := o.inflight[k]; ok {
		delete(o.byID, f.id)
		delete(o.inflight, k)
	}
	o.mu.Unlock()
}

// close stops sending for good and waits for a running sender to end; the
// stream's context must be done already, so a blocked send returns.
func (o *outbox) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	for o.sending {
		if o.idle == nil {
			o.idle = sync.NewCond(&o.mu)
		}
		o.idle.Wait()
	}
}

// sendable is one message for the sender, with what it means for the
// counters.
type sendable struct {
	p      *Payload
	push   bool
	resend bool
}

// outcome counts what take decided besides the messages.
type outcome struct {
	superseded, failed int
}

// take returns what is to be sent now: server requests, new pushes, and
// pushes whose ack is overdue. A new push carries its render's requestId,
// newID names every one sent again. When nothing
// is to be sent, or the outbox closed, it returns no messages and the
// calling sender must end: it no longer counts as running.
func (o *outbox) take(now time.Time, ackTimeout time.Duration, retries int, newID func() string,
	encode func(id string, r *rendered) *Payload) ([]sendable, outcome, grpc.ServerStream) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []sendable
	var oc outcome
	if !o.closed {
		for _, p := range o.ctrl {
			out = append(out, sendable{p: p})
		}
		o.ctrl = nil
		for k, it := range o.pending {
			f, ok := o.inflight[k]
			if ok {
				delete(o.byID, f.id)
				oc.superseded++
			} else {
				f = &flight{}
				o.inflight[k] = f
			}
			*f = flight{id: it.r.id, item: it, sent: now}
			o.byID[f.id] = k
			out = append(out, sendable{p: encode(f.id, it.r), push: true})
			delete(o.pending, k)
		}
		for k, f := range o.inflight {
			if now.Sub(f.sent) < ackTimeout {
				continue
			}
			delete(o.byID, f.id)
			if f.tries >= retries {
				delete(o.inflight, k)
				oc.failed++
				continue
			}
			f.tries++
			f.id, f.sent = newID(), now
			o.byID[f.id] = k
			out = append(out, sendable{p: encode(f.id, f.item.r), push: true, resend: true})
		}
	}
	if len(out) == 0 {
		o.sending = false
		if o.idle != nil {
			o.idle.Broadcast()
		}
	}
	return out, oc, o.stream
}

// overdue reports whether a push waits past the ack timeout at now.
func (o *outbox) overdue(now time.Time, ackTimeout time.Duration) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, f := range o.inflight {
		if now.Sub(f.sent) >= ackTimeout {
			return true
		}
	}
	return false
}

// ack settles the push with requestId id; ok is false for an unknown or
// superseded id.
func (o *outbox) ack(id string) (it *pushItem, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	k, found := o.byID[id]
	if !found {
		return nil, false
	}
	delete(o.byID, id)
	f := o.inflight[k]
	delete(o.inflight, k)
	return f.item, true
}

// failed ends sending after a send failed: the stream is gone.
func (o *outbox) failed() {
	o.mu.Lock()
	o.closed, o.sending = true, false
	if o.idle != nil {
		o.idle.Broadcast()
	}
	o.mu.Unlock()
}
