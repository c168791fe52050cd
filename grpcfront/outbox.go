package grpcfront

import (
	"sync"
	"time"
)

// outbox is what one connection's sendLoop has to send: server requests
// (probes, resets) and pushes. Pushes are coalesced per subscription: a
// newer render replaces one not yet sent, and one sent but not yet acked
// (that one counts as superseded). A push without an ack within the ack
// timeout is sent again, with a new requestId, at most PushRetries times.
// The lock is the connection's own and is never held while sending.
type outbox struct {
	mu       sync.Mutex
	wake     chan struct{}
	ctrl     []*Payload
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

func (o *outbox) init() {
	o.wake = make(chan struct{}, 1)
	o.pending = map[subKey]*pushItem{}
	o.inflight = map[subKey]*flight{}
	o.byID = map[string]subKey{}
}

func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// request queues a server request.
func (o *outbox) request(p *Payload) {
	o.mu.Lock()
	o.ctrl = append(o.ctrl, p)
	o.mu.Unlock()
	o.signal()
}

// push queues the newest render of a subscription.
func (o *outbox) push(k subKey, it *pushItem) {
	o.mu.Lock()
	o.pending[k] = it
	o.mu.Unlock()
	o.signal()
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

// sendable is one message for sendLoop, with what it means for the counters.
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
// pushes whose ack is overdue. newID names every push sent.
func (o *outbox) take(now time.Time, ackTimeout time.Duration, retries int, newID func() string,
	encode func(id string, r *rendered) *Payload) ([]sendable, outcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []sendable
	var oc outcome
	for _, p := range o.ctrl {
		out = append(out, sendable{p: p})
	}
	o.ctrl = nil
	for k, it := range o.pending {
		if f, ok := o.inflight[k]; ok {
			delete(o.byID, f.id)
			oc.superseded++
		}
		id := newID()
		o.inflight[k] = &flight{id: id, item: it, sent: now}
		o.byID[id] = k
		out = append(out, sendable{p: encode(id, it.r), push: true})
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
	return out, oc
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

// unacked counts pushes waiting for their ack.
func (o *outbox) unacked() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.inflight)
}
