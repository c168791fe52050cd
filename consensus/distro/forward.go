package distro

import (
	"context"
	"errors"
	"slices"

	"sextant/consensus/cluster"
	"sextant/naming"
)

// Apply applies an ephemeral instance op (register, deregister, update,
// beat, set-health). On the responsible node it is applied at once and
// queued for sync; elsewhere it is forwarded once to the responsible node
// and that node's answer is returned. A responsible node that cannot be
// reached within ForwardTimeout gives an error of kind
// naming.ErrUnavailable; Apply never blocks past that or ctx.
//
// A beat for an instance this node's copy holds is the exception: it is
// answered at once and goes to the responsible node in the next forward
// message without waiting for its answer (noticeBeat). The copy tells
// whether the instance exists, which is all the client's answer depends
// on; a beat lost on the way costs nothing while the client's next beats
// arrive (three are missed before an instance turns unhealthy), and an
// instance the responsible node has lost meanwhile leaves this node's
// copy at the next verify round, so the client's next beat is forwarded
// and answered as usual (re-created by a full beat, 20404 otherwise).
func (e *Engine) Apply(ctx context.Context, op naming.Op) error {
	if err := checkOp(&op); err != nil {
		return err
	}
	if err := e.stalled(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		// The client went away (its connection closed) before the write
		// was applied: it gets no answer, so the write is not made. A
		// request that waited in a socket past its client's timeout is
		// otherwise stamped as if sent now.
		return unavailable("the request was abandoned before it was applied: %v", err)
	}
	owner := e.Owner(op.Service)
	if owner == e.self {
		w, err := e.applyOwnedFrom(op, "local")
		e.awaitPeer(ctx, w)
		return err
	}
	if op.Kind == naming.OpBeat && e.holds(op.Service, targetOf(&op)) && e.noticeBeat(owner, op) {
		return nil
	}
	if err := e.forward(ctx, owner, op); err != nil {
		return err
	}
	e.applyAcked(op)
	return nil
}

// applyAcked makes a registration or a client's deregistration that the
// responsible node acknowledged visible on this node at once, rather than
// at the next sync: the node a client wrote to answers for the write (in
// its DNS and its lists) as soon as the client has its answer. It merges
// the record the responsible node syncs for the write: that node keeps the
// stamp the write came with (applyOwnedFrom), and the instance it registers is
// the op's, so the record here is the owner's own. When the owner held a
// later version of the instance and stamped the write later still, the
// owner's version is newer and replaces this one at the next sync, as
// anywhere. A merge keeps the newer version of each instance, so it is
// idempotent with the sync that follows. Other writes (patches, beats)
// depend on the owner's copy and arrive with the sync, as do writes that
// came without a stamp (the owner stamped them with its own clock).
func (e *Engine) applyAcked(op naming.Op) {
	rec := Record{Key: op.Service}
	switch {
	case op.Time == 0:
		return
	case op.Kind == naming.OpRegister && op.Instance != nil:
		in := *op.Instance
		in.ID, in.Updated = in.Key().ID(op.Service), op.Time
		rec.Instances = []*naming.Instance{&in}
	case op.Kind == naming.OpDeregister && op.ExpectBeat == 0:
		rec.Tombstones = []Tombstone{{Instance: op.Target, Time: op.Time}}
	default:
		return
	}
	if _, err := e.mergeRecord(rec, false); err != nil {
		e.log.WithError(err).WithField("service", op.Service.String()).Debug("acknowledged write not applied here")
	}
}

// holds reports whether this node's copy has the instance.
func (e *Engine) holds(key naming.ServiceKey, ik naming.InstanceKey) bool {
	svc, ok := e.cat.View(key)
	return ok && svc.Lookup(ik) != nil
}

// maxNoticeBacklog bounds the writes waiting for one responsible node
// when a beat may still go without waiting: past it, beats wait for their
// answer like any write, so clients slow down to what the node takes.
const maxNoticeBacklog = 4 * MaxForwardBatch

// noticeBeat queues op for owner without waiting for the answer; false,
// having queued nothing, when the queue is long, the last message to the
// owner failed (forwardQueue.refusing) or the engine is closed.
func (e *Engine) noticeBeat(owner string, op naming.Op) bool {
	q := e.forwardQueueOf(owner)
	if q == nil || e.ctx.Err() != nil || q.refusing.Load() {
		return false
	}
	// A notice only keeps alive an instance the copy holds: it travels as
	// a light beat, so, delivered late or retried after the client's
	// deregistration (or to a new owner that has not seen it), it cannot
	// re-create the instance. A client whose instance is gone gets "not
	// found" once this copy loses it, and registers again.
	op.Instance = nil
	if !q.add(&pendingForward{op: op}, maxNoticeBacklog) {
		return false
	}
	e.stats.forwards.Add(1)
	e.stats.beatNotices.Add(1)
	return true
}

// checkOp accepts only valid ephemeral instance ops.
func checkOp(op *naming.Op) error {
	if !op.IsInstanceOp() || !op.IsEphemeral() {
		return naming.Errorf(naming.ErrInvalid, "%s is not an ephemeral instance operation", op.Kind)
	}
	return op.Validate()
}

// forward hands op to the owner's forward queue (see forwardqueue.go) and
// waits for the owner's answer, at most ForwardTimeout.
func (e *Engine) forward(ctx context.Context, owner string, op naming.Op) error {
	e.stats.forwards.Add(1)
	fctx, cancel := context.WithTimeout(ctx, e.cfg.ForwardTimeout)
	defer cancel()
	p := &pendingForward{op: op, done: make(chan error, 1)}
	e.submitForward(owner, p)
	var err error
	select {
	case err = <-p.done:
	case <-fctx.Done():
		p.gone.Store(true)
		err = fctx.Err()
	}
	if err == nil {
		return nil
	}
	var ne *naming.Error
	if errors.As(err, &ne) {
		if errors.Is(ne, naming.ErrUnavailable) {
			e.stats.forwardsFailed.Add(1)
		}
		return err // the responsible node's own answer
	}
	if errors.Is(err, cluster.ErrRefused) && e.ctx.Err() == nil {
		return e.takeOver(owner, op, err)
	}
	e.stats.forwardsFailed.Add(1)
	e.log.WithError(err).WithField("owner", owner).Debug("forward failed")
	return unavailable("responsible node %s unreachable, retry: %v", owner, err)
}

// takeOver applies a write whose responsible node refused the connection
// (no process there: it stopped or restarts) on this node, as the owner
// would, rather than refusing it until the member views drop that node.
// The write is stamped and synced like any owned write; the next owner
// (or the old one, back) fetches it at its next verify round, and the
// newest version per instance wins there as everywhere.
func (e *Engine) takeOver(owner string, op naming.Op, cause error) error {
	e.stats.takeovers.Add(1)
	e.log.WithError(cause).WithField("owner", owner).WithField("service", op.Service.String()).
		Debug("responsible node refused the connection: applying the write here")
	_, err := e.applyOwnedFrom(op, "takeover")
	return err
}

// OnForward applies a write another node forwarded. It is never forwarded
// again: a node that is not responsible refuses it.
func (e *Engine) OnForward(ctx context.Context, from string, hash uint64, op naming.Op) error {
	theirs, err := e.forwardView(from, hash)
	if err != nil {
		return err
	}
	return e.applyForwarded(op, theirs, "forwarded by "+from)
}

// forwardView accepts a forward message built on this node's member view
// (nil), or on the view the sender last reported (its owner table): while
// views differ for a moment, a write is then applied if this node owns its
// key in both. A message built on a view this node does not know is
// refused as a whole.
func (e *Engine) forwardView(from string, hash uint64) (*ownerTable, error) {
	if hash != e.view.Hash() {
		if live, ok := e.view.PeerLive(from, hash); ok && slices.Contains(live, from) {
			slices.Sort(live)
			return newOwnerTable(live, hash), nil
		}
	}
	return nil, e.checkHash(from, hash)
}

// OnForwardBatch applies writes another node forwarded in one message, in
// order, and answers each one (nil for success). A message built on another
// member view is refused as a whole; a write for a service this node is
// not responsible for is refused alone, and never forwarded again.
func (e *Engine) OnForwardBatch(ctx context.Context, from string, hash uint64, ops []naming.Op) ([]error, error) {
	theirs, err := e.forwardView(from, hash)
	if err != nil {
		return nil, err
	}
	if len(ops) > MaxForwardOps {
		return nil, naming.Errorf(naming.ErrTooLarge, "forward of %d writes, at most %d are allowed", len(ops), MaxForwardOps)
	}
	out := make([]error, len(ops))
	for i := range ops {
		out[i] = e.applyForwarded(ops[i], theirs, "forwarded by "+from)
	}
	return out, nil
}

// applyForwarded applies a forwarded write if this node owns its key, in
// its own view and, when the sender's view differs, in that one too.
func (e *Engine) applyForwarded(op naming.Op, theirs *ownerTable, origin string) error {
	if err := checkOp(&op); err != nil {
		return err
	}
	if err := e.stalled(); err != nil {
		return err
	}
	if !e.owns(op.Service) || theirs != nil && theirs.owner(op.Service) != e.self {
		return unavailable("%s is not the responsible node of %s, retry", e.self, op.Service)
	}
	_, err := e.applyOwnedFrom(op, origin)
	return err
}
