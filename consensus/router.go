package consensus

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/consensus/raftcp"
	"sextant/naming"
)

// APWriter applies ephemeral ops: the Distro engine of a cluster node.
type APWriter interface {
	Apply(ctx context.Context, op naming.Op) error
	Owns(key naming.ServiceKey) bool
}

// CPWriter commits CP ops: the Raft node of a cluster node. Apply works on
// the leader only and returns a *raftcp.NotLeaderError elsewhere.
type CPWriter interface {
	Apply(ctx context.Context, op naming.Op) error
	IsLeader() bool
	Leader() string
}

// CPForwarder sends a CP op to the leader's node and returns its answer.
type CPForwarder interface {
	ForwardCP(ctx context.Context, leader string, op naming.Op) error
}

// RouterConfig tunes a Router.
type RouterConfig struct {
	// ApplyTimeout bounds a CP write end to end, from the moment it enters
	// this node (a service create it needs included), through the forward
	// to the leader and the commit: raft-apply-timeout, the same on every
	// member.
	ApplyTimeout time.Duration
	// LeaderWait bounds how long a CP write waits for a leader to be known
	// (during an election) before failing with ErrUnavailable; the write's
	// ApplyTimeout bounds it too.
	LeaderWait time.Duration
	// Now stamps ops; nil means time.Now.
	Now func() time.Time
	// Limits bound instances per service and services per namespace.
	Limits Limits
}

// DefaultRouterConfig returns the production settings.
func DefaultRouterConfig() RouterConfig {
	return RouterConfig{ApplyTimeout: 5 * time.Second, LeaderWait: 5 * time.Second, Limits: DefaultLimits()}
}

// Router is the naming.Writer of a cluster node. It admits every op by the
// server mode (Admit), then sends ephemeral ops to Distro and CP ops to
// Raft, forwarding them to the leader from a follower.
type Router struct {
	cfg RouterConfig
	cat *naming.Catalog
	ap  APWriter
	cp  CPWriter
	fwd CPForwarder
	log *logrus.Entry

	creating sync.Map // services whose durable record is being created in the background

	// The background creates (createLater) run under stop and are counted
	// in bg; Close cancels stop and waits for them. closed (guarded by mu)
	// keeps a create from starting once Close has begun.
	stop   context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	bg     sync.WaitGroup
}

var _ naming.Writer = (*Router)(nil)

// NewRouter wires a router over the catalog and the two replication layers.
func NewRouter(cfg RouterConfig, cat *naming.Catalog, ap APWriter, cp CPWriter, fwd CPForwarder, log *logrus.Entry) *Router {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LeaderWait <= 0 {
		cfg.LeaderWait = DefaultRouterConfig().LeaderWait
	}
	if cfg.ApplyTimeout <= 0 {
		cfg.ApplyTimeout = DefaultRouterConfig().ApplyTimeout
	}
	stop, cancel := context.WithCancel(context.Background())
	return &Router{cfg: cfg, cat: cat, ap: ap, cp: cp, fwd: fwd, log: log, stop: stop, cancel: cancel}
}

// Close stops the background creates of durable service records and
// waits for them to end; a create cut short is made again by the next
// registration into the service (on any member). The router writes
// nothing in the background afterwards. Writes still given to Apply are
// served as before: closing the Raft node and Distro is their owner's
// business. Close is idempotent and returns nil.
func (r *Router) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.bg.Wait()
	return nil
}

// Owns reports whether this node is the Distro owner of key.
func (r *Router) Owns(key naming.ServiceKey) bool { return r.ap.Owns(key) }

// Apply admits op and routes it to its consistency class.
func (r *Router) Apply(ctx context.Context, op naming.Op) error {
	if op.Time == 0 {
		op.Time = r.cfg.Now().UnixMilli()
	}
	adm, cur, err := r.admit(op)
	if err != nil {
		return err
	}
	return r.applyAdmitted(ctx, adm, cur)
}

// applyAdmitted applies an op admit accepted; cur is its service as admit
// found it.
func (r *Router) applyAdmitted(ctx context.Context, adm Admission, cur *naming.Service) error {
	if adm.Create != nil {
		// MIXED: the service becomes durable before its first instance. A
		// concurrent create of the same service is no failure.
		if err := r.createFor(ctx, adm); err != nil {
			return err
		}
	}
	if adm.Op.IsEphemeral() {
		return r.ap.Apply(ctx, adm.Op)
	}
	if adm.Op.Kind == naming.OpDeregister && (cur == nil || cur.Find(adm.Op.Target) == nil) {
		return nil // absent is not an error, and there is nothing to commit
	}
	return r.ApplyCP(ctx, adm.Op)
}

// errCPTimeout is the cause of a CP write's own deadline.
var errCPTimeout = errors.New("raft apply timeout")

// cpContext bounds a CP write by ApplyTimeout from now.
func (r *Router) cpContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, r.cfg.ApplyTimeout, errCPTimeout)
}

// admit validates op, then runs the server mode (Admit) and the limits
// (CheckLimits) on it against this node's catalog; cur is op's service as
// found.
func (r *Router) admit(op naming.Op) (Admission, *naming.Service, error) {
	// This is where a cluster node validates an op, once. Every write
	// passes here before anything acts on it: the fronts' writes (Apply)
	// and those a follower forwards to the leader (CPApplyHandler). Past
	// this point admission reads the op, a MIXED registration may have its
	// service created, a deregistration of an absent instance is answered
	// "ok", and the op is ordered by Raft or handed to Distro; an invalid
	// op must be refused before all of that, with nothing done. So the
	// Raft node behind the router takes the op as valid (raftcp.Node.Apply
	// does not validate again). The catalog still refuses what it cannot
	// hold when it applies an op: that guards what reaches it without
	// passing a node's door (Raft entries read back, the gateway's mirror).
	if err := op.Validate(); err != nil {
		return Admission{}, nil, err
	}
	var cur *naming.Service
	if op.Kind != naming.OpSetSwitch && op.Kind != naming.OpCreateNamespace &&
		op.Kind != naming.OpUpdateNamespace && op.Kind != naming.OpDeleteNamespace && !op.Kind.IsAuth() {
		cur, _ = r.cat.View(op.Service) // a view: admission reads instances through Find and Len, never the list
	}
	adm, err := Admit(r.cat.Switches(), op, cur)
	if err != nil {
		return Admission{}, cur, err
	}
	return adm, cur, CheckLimits(r.cfg.Limits, adm.Op, cur, r.cat)
}

// CPApplyHandler is the CPApplyPath handler (the package's
// CPApplyHandler) of this router's Raft node: a forwarded op is admitted
// on the leader as one sent to it directly, against the leader's state
// (Admit, CheckLimits), since the follower judged it on a view that may
// lag; a service it needs is created first, as Apply does.
func (r *Router) CPApplyHandler(secret string) http.Handler {
	return CPApplyHandler(admittingCP{r}, secret)
}

// admittingCP is the Raft node with the router's admission before Apply.
type admittingCP struct{ r *Router }

func (a admittingCP) IsLeader() bool { return a.r.cp.IsLeader() }
func (a admittingCP) Leader() string { return a.r.cp.Leader() }

func (a admittingCP) Apply(ctx context.Context, op naming.Op) error {
	adm, _, err := a.r.admit(op)
	if err != nil {
		return err
	}
	if adm.Op.IsEphemeral() {
		// The instance is ephemeral here: a CP commit would store it twice.
		return naming.Errorf(naming.ErrConflict, "instance %s is ephemeral on the raft leader; the %s was not committed, retry", adm.Op.Target.ID(adm.Op.Service), adm.Op.Kind)
	}
	if adm.Create != nil {
		if err := a.r.cp.Apply(ctx, *adm.Create); err != nil && !errors.Is(err, naming.ErrConflict) {
			return err
		}
	}
	return a.r.cp.Apply(ctx, adm.Op)
}

// ApplyCP commits a CP op: on the leader directly, elsewhere through the
// leader's node, carrying ctx there. It answers within ApplyTimeout (or
// ctx, if sooner): it retries when leadership moved under it and waits at
// most LeaderWait for a leader to be known, all inside that bound. A write
// whose fate is unknown when the bound ends says so.
func (r *Router) ApplyCP(ctx context.Context, op naming.Op) error {
	ctx, cancel := r.cpContext(ctx)
	defer cancel()
	return r.applyCP(ctx, op)
}

func (r *Router) applyCP(ctx context.Context, op naming.Op) error {
	deadline := time.Now().Add(r.cfg.LeaderWait)
	var hint string
	for attempt := 0; ; attempt++ {
		var err error
		switch leader := pick(hint, r.cp.Leader()); {
		case r.cp.IsLeader():
			err = r.cp.Apply(ctx, op)
		case leader != "":
			err = r.fwd.ForwardCP(ctx, leader, op)
		default:
			if time.Now().After(deadline) || errors.Is(context.Cause(ctx), errCPTimeout) {
				return naming.Errorf(naming.ErrUnavailable, "no raft leader: the write was not committed, retry later")
			}
			if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
				if errors.Is(context.Cause(ctx), errCPTimeout) {
					return naming.Errorf(naming.ErrUnavailable, "no raft leader within %s: the write was not committed, retry later", r.cfg.ApplyTimeout)
				}
				return naming.Errorf(naming.ErrUnavailable, "request abandoned: %v", err)
			}
			continue
		}
		if !errors.Is(err, raftcp.ErrNotLeader) || attempt >= 2 {
			return err
		}
		hint = LeaderHint(err)
	}
}

func pick(hint, known string) string {
	if hint != "" {
		return hint
	}
	return known
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// LeaderHint returns the leader named by a not-leader error, or "".
func LeaderHint(err error) string {
	var e *raftcp.NotLeaderError
	if errors.As(err, &e) {
		return e.Leader
	}
	return ""
}
