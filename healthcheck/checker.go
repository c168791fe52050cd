package healthcheck

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// Peers tells the beat checker whether every other member is reachable
// now. *cluster.Membership satisfies it.
type Peers interface {
	AllReachable() bool
}

// Writer is what both checkers change state through: naming's Writer for
// their verdicts, and Owns, which tells them whether this node is
// responsible for judging a service's instances (the Distro owner; every
// service on a lone node). A checker judges only the services it owns.
type Writer interface {
	naming.Writer
	Owns(key naming.ServiceKey) bool
}

// BeatWriter is the Writer of the beat checker, which also collects empty
// services. DropEmpty deletes a service from this node alone when its
// record is not durable (memory-only, per node: naming/durable.go) and it
// has no instance, answering ErrConflict otherwise. consensus.Router and
// consensus.Standalone offer it.
type BeatWriter interface {
	Writer
	DropEmpty(key naming.ServiceKey) error
}

// BeatChecker runs the beat sweep on a timer. Sweeps never overlap.
type BeatChecker struct {
	cfg   Config
	src   naming.Reader
	views views
	w     BeatWriter
	clk   Clock
	peers Peers // nil: a lone node, nobody to miss
	log   *logrus.Entry

	held    atomic.Uint64 // removals held back by self-preservation
	dropped atomic.Uint64 // empty services dropped on this node alone
	holding bool          // the last sweep held removals back (guarded by mu)

	// mu serialises sweeps and guards the fields below.
	mu sync.Mutex
	// owned maps every service this node is responsible for to the time
	// (Unix ms) it was first seen owned, and the sweep that last saw it.
	owned map[naming.ServiceKey]ownership
	gen   uint64
	ops   []naming.Op // reused between sweeps
	// empty holds the services collect follows: empty, implicit, and
	// owned or droppable here; drops is one sweep's choice (reused).
	empty map[naming.ServiceKey]emptySince
	drops []naming.ServiceKey

	life     lifecycle
	cancel   context.CancelFunc
	stopTick func()
	done     chan struct{}
	// moved is signalled when the member view changes (viewWatcher);
	// unwatch ends that.
	moved   chan struct{}
	unwatch func()
}

// viewWatcher is a Peers that calls fn after every change of the member
// view (*cluster.Membership).
type viewWatcher interface {
	Watch(fn func()) (cancel func())
}

type ownership struct {
	since int64
	// from is the first sweep of the current judging period, last the
	// last sweep (Unix ms) that judged the service.
	from, last int64
	gen        uint64
	// paused is set when the member view moved the service away between
	// two sweeps: its period was logged as ended (releaseLost). The next
	// sweep drops it, or, if it is owned again, starts a new period and
	// keeps since (the ownership the sweeps saw never lapsed).
	paused bool
}

// NewBeatChecker builds a checker that reads src and writes through w.
// peers, nil on a lone node, drives self-preservation. A nil log discards
// log lines.
func NewBeatChecker(cfg Config, src naming.Reader, w BeatWriter, clk Clock, peers Peers, log *logrus.Entry) (*BeatChecker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src == nil || w == nil || clk == nil {
		return nil, errors.New("healthcheck: source, writer and clock are required")
	}
	return &BeatChecker{
		cfg: cfg, src: src, views: viewsOf(src), w: w, clk: clk, peers: peers,
		log:   logOrDiscard(log).WithField("component", "healthcheck"),
		owned: map[naming.ServiceKey]ownership{},
		empty: map[naming.ServiceKey]emptySince{},
	}, nil
}

// Start records which services this node owns now (so that their grace
// starts now) and runs a sweep every SweepInterval until ctx ends or Close is
// called. With Config.Enabled false it does nothing. Start may be called once.
func (b *BeatChecker) Start(ctx context.Context) error {
	b.life.Lock()
	defer b.life.Unlock()
	if err := b.life.begin(); err != nil {
		return err
	}
	if !b.cfg.Enabled {
		b.log.Info("beat checking is disabled")
		return nil
	}
	b.mu.Lock()
	b.track(b.views.all("", ""), b.clk.Now().UnixMilli())
	b.mu.Unlock()

	ctx, b.cancel = context.WithCancel(ctx)
	tick, stop := b.clk.NewTicker(b.cfg.SweepInterval)
	b.stopTick = stop
	b.done = make(chan struct{})
	b.moved = make(chan struct{}, 1)
	if w, ok := b.peers.(viewWatcher); ok {
		b.unwatch = w.Watch(func() {
			select {
			case b.moved <- struct{}{}:
			default:
			}
		})
	}
	go b.loop(ctx, tick)
	b.log.WithField("interval", b.cfg.SweepInterval).Info("beat checker started")
	return nil
}

func (b *BeatChecker) loop(ctx context.Context, tick <-chan time.Time) {
	defer close(b.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			b.Sweep(ctx, b.clk.Now())
		case <-b.moved:
			b.releaseLost()
		}
	}
}

// releaseLost ends, when the member view changed, the judging periods of
// the services this node no longer owns, rather than at the next sweep:
// their last sweep is logged as the end ("judging stops") as soon as the
// responsibility moved, so that a node killed before its next sweep does
// not leave a period open past the moment a new owner starts. What the
// sweeps judge does not change: the next sweep drops the service, or
// judges it again in a new period, as it would have.
func (b *BeatChecker) releaseLost() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, o := range b.owned {
		if !o.paused && !b.w.Owns(k) {
			b.judgingStops(k, o)
			o.paused = true
			b.owned[k] = o
		}
	}
}

// Close stops the loop and waits for a running sweep to end. It is safe to
// call more than once.
func (b *BeatChecker) Close() error {
	b.life.Lock()
	defer b.life.Unlock()
	if first, _ := b.life.End(); !first {
		return nil
	}
	if b.cancel != nil {
		if b.unwatch != nil {
			b.unwatch()
		}
		b.cancel()
		b.stopTick()
		<-b.done
	}
	b.mu.Lock()
	for k, o := range b.owned {
		if !o.paused {
			b.judgingStops(k, o)
		}
	}
	b.mu.Unlock()
	return nil
}

// Sweep runs one pass at time now: it updates which services this node owns
// and applies the ops PlanService returns for each owned service while the
// healthCheckEnabled switch is on. Errors are logged, never returned: the
// next sweep tries again.
func (b *BeatChecker) Sweep(ctx context.Context, now time.Time) {
	if !b.cfg.Enabled {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ms := now.UnixMilli()
	svcs := b.views.all("", "")
	b.track(svcs, ms)
	if !b.src.Switches().HealthCheckEnabled {
		return
	}
	ops := b.ops[:0]
	for _, s := range svcs {
		if o, ok := b.owned[s.Key]; ok {
			ops = PlanService(s, ms, o.since, ops)
		}
	}
	ops = b.preserve(svcs, ops)
	ops = b.collect(svcs, ms, ops)
	b.applyAll(ctx, ops)
	clear(ops) // drop references to instance metadata until the next sweep
	b.ops = ops[:0]
	b.dropAll(ctx, ms)
}

// track updates b.owned from the writer's view of responsibility at time
// now. The caller holds b.mu.
func (b *BeatChecker) track(svcs []*naming.Service, now int64) {
	b.gen++
	for _, s := range svcs {
		if !b.w.Owns(s.Key) {
			continue
		}
		o, ok := b.owned[s.Key]
		if !ok {
			o.since = now
		}
		if !ok || o.paused {
			o.from, o.paused = now, false
			b.log.WithField("service", s.Key.String()).WithField("at", now).Info("judging starts")
		}
		o.gen, o.last = b.gen, now
		b.owned[s.Key] = o
	}
	for k, o := range b.owned {
		if o.gen != b.gen {
			if !o.paused {
				b.judgingStops(k, o)
			}
			delete(b.owned, k)
		}
	}
}

// judgingStops logs the end of a period in which this node judged a
// service: from its first sweep to its last. With the "judging starts"
// lines, they let a check (the reliability suite) find moments at which
// two nodes judged the same service.
func (b *BeatChecker) judgingStops(k naming.ServiceKey, o ownership) {
	b.log.WithFields(logrus.Fields{"service": k.String(), "from": o.from, "to": o.last}).Info("judging stops")
}

// groupWriter is a BeatWriter that applies a sweep's ops of one service
// together, as one change of it (consensus.Router).
type groupWriter interface {
	ApplyGroup(ctx context.Context, ops []naming.Op) []error
}

// applyAll writes a sweep's ops in order. With a groupWriter, the flips and
// expiries of one service (PlanService returns them together) go as one
// group: a sweep that expires thousands of instances of a service changes
// it once, not once per instance.
func (b *BeatChecker) applyAll(ctx context.Context, ops []naming.Op) {
	g, grouping := b.w.(groupWriter)
	for i := 0; i < len(ops) && ctx.Err() == nil; {
		j := i + 1
		if grouping && judged(ops[i].Kind) {
			for j < len(ops) && ops[j].Service == ops[i].Service && judged(ops[j].Kind) {
				j++
			}
		}
		if j-i == 1 {
			b.applied(ops[i], b.w.Apply(ctx, ops[i]))
		} else {
			for k, err := range g.ApplyGroup(ctx, ops[i:j]) {
				b.applied(ops[i+k], err)
			}
		}
		i = j
	}
}

// judged reports whether ops of kind are an instance's judgement (what
// PlanService and self-preservation return), which a group may carry.
func judged(kind naming.OpKind) bool {
	return kind == naming.OpSetHealth || kind == naming.OpDeregister
}

// applied logs what one op, written with the result err, changed.
func (b *BeatChecker) applied(op naming.Op, err error) {
	fields := logrus.Fields{"service": op.Service.String(), "instance": op.Target.Addr(), "cluster": op.Target.Cluster}
	if err != nil {
		if errors.Is(err, naming.ErrNotFound) || errors.Is(err, naming.ErrConflict) ||
			op.Kind == naming.OpDeleteService && errors.Is(err, naming.ErrForbidden) {
			// Removed or re-registered between the sweep's read and the
			// write; or, for an empty service, a server mode (AP) in which
			// services are not deleted.
			b.log.WithFields(fields).WithError(err).Debug("instance changed before the beat check applied")
			return
		}
		b.log.WithFields(fields).WithError(err).Warn("beat check could not apply " + op.Kind.String())
		return
	}
	// The op is a no-op when a beat arrived in between; log only real changes.
	in, _ := b.src.Instance(op.Service, op.Target)
	switch op.Kind {
	case naming.OpSetHealth:
		if in != nil && !in.Healthy && in.Check == *op.Check {
			b.log.WithFields(fields).WithField("reason", op.Check.Reason).Info("instance marked unhealthy")
		}
	case naming.OpDeregister:
		if in == nil {
			b.log.WithFields(fields).WithField("reason", "no beat for "+idle(op.ExpectBeat, op.Time).String()).Info("instance removed")
		}
	case naming.OpDeleteService:
		b.log.WithField("service", op.Service.String()).WithField("grace", b.cfg.EmptyServiceGrace).Info("empty service deleted")
	}
}
