package healthcheck

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// PersistentChecker probes the persistent instances of the services this
// node owns and writes each change of health through the writer.
type PersistentChecker struct {
	cfg   ProbeConfig
	src   naming.Reader
	views views
	w     Writer
	probe Prober
	clk   Clock
	log   *logrus.Entry
	stats counters

	// mu guards the schedule and everything below it.
	mu          sync.Mutex
	sched       *schedule
	lastRescan  time.Time
	lastEnabled bool
	// wake carries one token per probe found due at a tick, to wake that
	// many idle workers (at most Workers): idle workers cost nothing
	// between ticks, and a tick with nothing due wakes none.
	wake chan struct{}

	dmu   sync.Mutex
	dirty map[naming.ServiceKey]bool

	life     lifecycle
	cancel   context.CancelFunc
	stopTick func()
	unwatch  func()
	wg       sync.WaitGroup
}

// NewPersistentChecker builds a checker that reads src, probes with p (nil
// means ProberFor(cfg)) and writes through w. A nil log discards log lines.
func NewPersistentChecker(cfg ProbeConfig, src naming.Reader, w Writer, p Prober, clk Clock, log *logrus.Entry) (*PersistentChecker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src == nil || w == nil || clk == nil {
		return nil, errors.New("healthcheck: source, writer and clock are required")
	}
	if p == nil {
		p = ProberFor(cfg)
	}
	return &PersistentChecker{
		cfg: cfg, src: src, views: viewsOf(src), w: w, probe: p, clk: clk,
		log:   logOrDiscard(log).WithField("component", "probes"),
		sched: newSchedule(cfg),
		wake:  make(chan struct{}, cfg.Workers),
		dirty: map[naming.ServiceKey]bool{},
	}, nil
}

// Start watches the catalog, starts Config.Workers probe workers and a
// loop that every Tick follows changed services (and every Rescan the whole
// catalog and its ownership) and wakes the workers for due probes. It
// returns at once; the first probes start at the first tick. With
// Config.Enabled false it does nothing. Start may be called once.
func (c *PersistentChecker) Start(ctx context.Context) error {
	c.life.Lock()
	defer c.life.Unlock()
	if err := c.life.begin(); err != nil {
		return err
	}
	if !c.cfg.Enabled {
		c.log.Info("probes of persistent instances are disabled")
		return nil
	}
	ctx, c.cancel = context.WithCancel(ctx)
	c.unwatch = c.src.Watch(c.markDirty)
	tick, stop := c.clk.NewTicker(c.cfg.Tick)
	c.stopTick = stop
	c.wg.Add(1 + c.cfg.Workers)
	go c.loop(ctx, tick)
	for i := 0; i < c.cfg.Workers; i++ {
		go c.worker(ctx)
	}
	c.log.WithFields(logrus.Fields{"interval": c.cfg.Interval, "workers": c.cfg.Workers}).Info("probes of persistent instances started")
	return nil
}

// Close stops the loop and the workers, cancels probes in flight and waits
// for them. It is safe to call more than once.
func (c *PersistentChecker) Close() error {
	c.life.Lock()
	defer c.life.Unlock()
	if first, _ := c.life.End(); !first || c.cancel == nil {
		return nil
	}
	c.cancel()
	c.stopTick()
	c.unwatch()
	c.wg.Wait()
	return nil
}

// Stats returns the checker's counters.
func (c *PersistentChecker) Stats() Stats {
	c.mu.Lock()
	n := c.sched.size()
	c.mu.Unlock()
	return c.stats.snapshot(n)
}

// LastCheck returns the last probe of a persistent instance that this node
// ran, whether or not it changed the instance's health. ok is false when
// this node has not probed the instance (another node owns its service, its
// checker is NONE, or no probe has ended yet).
func (c *PersistentChecker) LastCheck(key naming.ServiceKey, ik naming.InstanceKey) (naming.ProbeReport, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.sched.lookup(key, ik)
	if t == nil || t.last.Time == 0 {
		return naming.ProbeReport{}, false
	}
	return t.last, true
}

func (c *PersistentChecker) markDirty(key naming.ServiceKey) {
	c.dmu.Lock()
	c.dirty[key] = true
	c.dmu.Unlock()
}

func (c *PersistentChecker) takeDirty() map[naming.ServiceKey]bool {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	if len(c.dirty) == 0 {
		return nil
	}
	d := c.dirty
	c.dirty = map[naming.ServiceKey]bool{}
	return d
}

func (c *PersistentChecker) loop(ctx context.Context, tick <-chan time.Time) {
	defer c.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			c.step(c.clk.Now())
		}
	}
}

// step follows catalog changes at time now and wakes idle workers.
func (c *PersistentChecker) step(now time.Time) {
	dirty := c.takeDirty()
	enabled := c.src.Switches().HealthCheckEnabled
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastRescan) >= c.cfg.Rescan || enabled != c.lastEnabled {
		c.lastRescan, c.lastEnabled = now, enabled
		svcs := c.views.all("", "")
		keep := make(map[naming.ServiceKey]bool, len(svcs))
		for _, s := range svcs {
			keep[s.Key] = true
			c.sched.sync(s.Key, s, enabled && c.w.Owns(s.Key), now)
		}
		c.sched.dropOthers(keep)
	} else {
		for key := range dirty {
			svc, _ := c.views.one(key)
			c.sched.sync(key, svc, enabled && c.w.Owns(key), now)
		}
	}
	for n := c.sched.countDue(now, c.cfg.Workers); n > 0; n-- {
		select {
		case c.wake <- struct{}{}:
		default: // every worker already has a wake-up waiting
			return
		}
	}
}

// job is one probe to run, with the settings it was started with.
type job struct {
	t                  *target
	probe              Target
	due                time.Time
	interval           time.Duration
	unhealthy, healthy int
}

// take returns the next due probe; j.t is nil when none is due.
func (c *PersistentChecker) take() job {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.sched.next(c.clk.Now())
	if t == nil {
		return job{}
	}
	return job{t: t, probe: t.probe, due: t.Due, interval: t.interval,
		unhealthy: t.unhealthyThreshold, healthy: t.healthyThreshold}
}

// worker runs due probes until none is left, then waits for a wake-up.
func (c *PersistentChecker) worker(ctx context.Context) {
	defer c.wg.Done()
	for ctx.Err() == nil {
		j := c.take()
		if j.t == nil {
			select {
			case <-ctx.Done():
			case <-c.wake:
			}
			continue
		}
		c.run(ctx, j)
	}
}

// run probes one target, judges the result and writes a flip.
func (c *PersistentChecker) run(ctx context.Context, j job) {
	start := c.clk.Now()
	pctx, cancel := context.WithTimeout(ctx, j.probe.Timeout)
	res := c.probe.Probe(pctx, j.probe)
	cancel()
	next := NextDue(j.due, start, j.interval)
	if ctx.Err() != nil {
		c.finish(j.t, next)
		return
	}
	end := c.clk.Now()
	c.stats.probes.Add(1)
	c.stats.lag.Add(int64(max(start.Sub(j.due), 0)))
	if !res.OK {
		c.stats.failures.Add(1)
	}
	cur, _ := c.src.Instance(j.t.svc, j.t.ik)
	c.mu.Lock()
	if j.t.removed || cur == nil || cur.Ephemeral {
		c.sched.finish(j.t, next)
		c.mu.Unlock()
		return
	}
	j.t.last = naming.ProbeReport{Time: end.UnixMilli(), OK: res.OK, Reason: res.Reason}
	var flip bool
	j.t.streak, flip = Judge(j.t.streak, cur.Healthy, res.OK, j.unhealthy, j.healthy)
	streak := j.t.streak
	if !flip {
		c.sched.finish(j.t, next)
		c.mu.Unlock()
		if c.log.Logger.IsLevelEnabled(logrus.TraceLevel) {
			c.log.WithFields(c.fields(j)).WithField("ok", res.OK).WithField("reason", res.Reason).Trace("probe")
		}
		return
	}
	c.mu.Unlock()
	// The target stays running while its flip is written, so no second
	// probe of the same instance can race it.
	c.flip(ctx, j, res, end, streak)
	c.finish(j.t, next)
}

func (c *PersistentChecker) finish(t *target, next time.Time) {
	c.mu.Lock()
	c.sched.finish(t, next)
	c.mu.Unlock()
}

func (c *PersistentChecker) fields(j job) logrus.Fields {
	return logrus.Fields{"service": j.t.svc.String(), "instance": j.t.ik.Addr(), "cluster": j.t.ik.Cluster,
		"check": j.probe.Type, "probed": j.probe.Addr}
}

// flip writes the new health of one instance, if this node still owns its
// service.
func (c *PersistentChecker) flip(ctx context.Context, j job, res Result, end time.Time, s Streak) {
	fields := c.fields(j)
	if !c.w.Owns(j.t.svc) {
		c.log.WithFields(fields).Debug("service no longer owned; health change dropped")
		return
	}
	op := naming.Op{
		Kind: naming.OpSetHealth, Time: end.UnixMilli(), Service: j.t.svc, Target: j.t.ik,
		Healthy: res.OK, Ephemeral: false,
		Check: &naming.CheckResult{Time: end.UnixMilli(), Reason: res.Reason},
	}
	actx, cancel := context.WithTimeout(ctx, c.cfg.ApplyTimeout)
	err := c.w.Apply(actx, op)
	cancel()
	if err != nil {
		c.stats.applyErrors.Add(1)
		level := logrus.WarnLevel
		if errors.Is(err, naming.ErrNotFound) || ctx.Err() != nil {
			level = logrus.DebugLevel // deregistered meanwhile, or shutting down
		}
		c.log.WithFields(fields).WithError(err).Log(level, "health change not written")
		return
	}
	fields["reason"] = res.Reason
	if res.OK {
		c.stats.flipsHealth.Add(1)
		fields["successes"] = s.OK
		c.log.WithFields(fields).Info("instance marked healthy")
	} else {
		c.stats.flipsUnhealthy.Add(1)
		fields["failures"] = s.Fail
		c.log.WithFields(fields).Info("instance marked unhealthy")
	}
}
