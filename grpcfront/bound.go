package grpcfront

import (
	"context"
	"errors"
	"sync"
	"time"

	"sextant/naming"
)

// Connection-bound instances (DESIGN.md): an ephemeral instance registered
// over a connection lives as long as some connection of this node holds
// it. This node keeps it alive at its service's responsible member by
// beating it every RenewInterval or faster (renew.go), and deregisters it when the
// last connection holding it ends, unless the node is draining.

// instRef names one instance of one service.
type instRef struct {
	svc naming.ServiceKey
	ik  naming.InstanceKey
}

// binding is one bound instance: what was registered, when (the Op.Time
// this node stamped), and the connections holding it.
type binding struct {
	inst  *naming.Instance
	at    int64
	conns keySet[*conn]
	// every is the instance's renewal interval; due the next renewal, Unix ms.
	every time.Duration
	due   int64
}

// bindings is the node's table of bound instances. Lock order: a
// connection's mu, then bindings.mu.
type bindings struct {
	mu sync.Mutex
	m  map[instRef]*binding
}

func newBindings() *bindings { return &bindings{m: map[instRef]*binding{}} }

// errConnEnded refuses work on a connection that ended meanwhile.
var errConnEnded = naming.Errorf(naming.ErrUnavailable, "connection ended")

// bind records that c holds ref; false when c has ended.
func (s *Server) bind(c *conn, ref instRef, in *naming.Instance, at int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.mayHold(c, ref); err != nil {
		return err
	}
	c.insts.add(ref)
	b := s.bound
	b.mu.Lock()
	defer b.mu.Unlock()
	x := b.m[ref]
	if x == nil {
		x = &binding{}
		b.m[ref] = x
	}
	x.inst, x.at = in, max(x.at, at)
	x.every = renewEvery(s.cfg.RenewInterval, in.Metadata)
	x.due = at + x.every.Milliseconds()
	x.conns.add(c)
	return nil
}

// mayBind reports whether c could bind one more instance (checked before
// the write, so that a refusal changes nothing).
func (s *Server) mayBind(c *conn, ref instRef) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return s.mayHold(c, ref)
}

// mayHold is mayBind with c.mu held.
func (s *Server) mayHold(c *conn, ref instRef) error {
	if c.ended {
		return errConnEnded
	}
	if !c.insts.has(ref) && c.insts.len() >= s.cfg.MaxInstancesPerConn {
		return naming.Errorf(naming.ErrTooLarge, "too many instances on one connection: the limit is %d", s.cfg.MaxInstancesPerConn)
	}
	return nil
}

// unbind forgets that c holds ref; last is true when no connection holds it now.
func (s *Server) unbind(c *conn, ref instRef) (last bool) {
	c.mu.Lock()
	c.insts.remove(ref)
	c.mu.Unlock()
	return s.bound.drop(c, ref) != nil
}

// drop removes c from ref's holders and returns the binding when c was the last.
func (b *bindings) drop(c *conn, ref instRef) *binding {
	b.mu.Lock()
	defer b.mu.Unlock()
	x := b.m[ref]
	if x == nil {
		return nil
	}
	x.conns.remove(c)
	if x.conns.len() > 0 {
		return nil
	}
	delete(b.m, ref)
	return x
}

// registerBound registers an ephemeral instance and binds it to c. The
// same registration twice (clients race their redo against the first
// call) is two successful, identical writes.
func (s *Server) registerBound(ctx context.Context, c *conn, key naming.ServiceKey, in *naming.Instance) error {
	ref := instRef{svc: key, ik: in.Key()}
	if err := s.mayBind(c, ref); err != nil {
		return err
	}
	at := s.now().UnixMilli()
	if err := s.apply(ctx, naming.Op{Kind: naming.OpRegister, Time: at, Service: key, Ephemeral: true, Instance: in}); err != nil {
		return err
	}
	if err := s.bind(c, ref, in, at); err != nil {
		// The connection ended while the write was under way: nothing
		// keeps the instance alive, so it goes again.
		s.deregister(ref, at)
		return err
	}
	return nil
}

// deregisterBound removes an instance and unbinds it from c; an absent
// instance is fine.
func (s *Server) deregisterBound(ctx context.Context, c *conn, key naming.ServiceKey, ik naming.InstanceKey) error {
	s.unbind(c, instRef{svc: key, ik: ik})
	err := s.apply(ctx, naming.Op{Kind: naming.OpDeregister, Service: key, Target: ik, Ephemeral: true})
	if errors.Is(err, naming.ErrNotFound) {
		return nil
	}
	return err
}

// batchRegister makes list the instances c holds in service key: each is
// registered, then those c held before and list lacks are deregistered.
func (s *Server) batchRegister(ctx context.Context, c *conn, key naming.ServiceKey, list []*naming.Instance) error {
	keep := map[naming.InstanceKey]bool{}
	for _, in := range list {
		keep[in.Key()] = true
	}
	if len(keep) > s.cfg.MaxInstancesPerConn {
		return naming.Errorf(naming.ErrTooLarge, "too many instances on one connection: the limit is %d", s.cfg.MaxInstancesPerConn)
	}
	for _, in := range list {
		if err := s.registerBound(ctx, c, key, in); err != nil {
			return err
		}
	}
	c.mu.Lock()
	var gone []naming.InstanceKey
	for ref := range c.insts.all() {
		if ref.svc == key && !keep[ref.ik] {
			gone = append(gone, ref.ik)
		}
	}
	c.mu.Unlock()
	for _, ik := range gone {
		if err := s.deregisterBound(ctx, c, key, ik); err != nil {
			return err
		}
	}
	return nil
}

// release unbinds every instance of an ended connection and, unless the
// node is draining or asked the client to move, deregisters those no other
// connection holds, in the background (the caller may be gRPC's transport).
func (s *Server) release(c *conn, refs keySet[instRef]) {
	type gone struct {
		ref instRef
		at  int64
	}
	var list []gone
	for ref := range refs.all() {
		if x := s.bound.drop(c, ref); x != nil {
			list = append(list, gone{ref, x.at})
		}
	}
	if len(list) == 0 || s.draining.Load() || c.moved.Load() {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for _, g := range list {
			s.deregister(g.ref, g.at)
		}
	}()
}

// reregisteredAfter is how much later than this node's registration a
// copy's version must be to count as the client's registration through
// another member. The responsible member stamps a write after the versions
// it knows (the SDK's two registrations of one instance, sent in the same
// millisecond, come out a millisecond apart), so a version a little later
// than ours is still ours; a client that reconnected elsewhere registers
// again only after it noticed the lost connection, far later.
const reregisteredAfter = time.Second

// deregister removes an instance this node registered at time at, unless
// this node's copy shows a registration well after it (the client
// registered it again through another member).
func (s *Server) deregister(ref instRef, at int64) {
	if svc, ok := s.r.Service(ref.svc); ok {
		if in := svc.Find(ref.ik); in != nil && in.Updated > at+reregisteredAfter.Milliseconds() {
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ApplyTimeout)
	defer cancel()
	err := s.w.Apply(ctx, naming.Op{Kind: naming.OpDeregister, Time: s.now().UnixMilli(), Service: ref.svc, Target: ref.ik, Ephemeral: true})
	if err != nil && !errors.Is(err, naming.ErrNotFound) {
		s.log.WithError(err).WithField("instance", ref.ik.ID(ref.svc)).Warn("could not remove the instance of an ended connection; its beat timeout will")
	}
}

// boundCount returns the number of instances bound to connections.
func (b *bindings) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}

// renewal is one bound instance to beat.
type renewal struct {
	ref  instRef
	inst *naming.Instance
}

// due returns the bindings whose renewal is due at now (Unix ms) and
// schedules their next one.
func (b *bindings) due(now int64) []renewal {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []renewal
	for ref, x := range b.m {
		if x.due <= now {
			out = append(out, renewal{ref, x.inst})
			x.due = now + x.every.Milliseconds()
		}
	}
	return out
}

// renewEvery is how often an instance is beaten: every RenewInterval, or
// a third of its own beat timeout when that is shorter (clients such as
// Spring Cloud Alibaba set preserved.heart.beat.timeout in metadata, and
// the owner judges bound instances by it like any other), at least every
// minRenew.
func renewEvery(interval time.Duration, md map[string]string) time.Duration {
	return max(min(interval, naming.TimingsOf(md).Timeout/3), minRenew)
}

// minRenew bounds how often one instance is beaten.
const minRenew = 500 * time.Millisecond

// registered records a re-registration made by the renewal; false when
// no connection holds ref any more.
func (b *bindings) registered(ref instRef, at int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	x := b.m[ref]
	if x != nil {
		x.at = max(x.at, at)
	}
	return x != nil
}

// holds reports whether some connection holds ref.
func (b *bindings) holds(ref instRef) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[ref] != nil
}
