package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// Client is a Nacos v1 naming client with the HA features of the Nacos
// clients. Build it with New, call Start, and Close when done.
type Client struct {
	cfg      Config
	ns       string
	nsDir    string // {CacheDir}/naming/{namespace}; "" without a cache dir
	clientIP string
	log      *logrus.Entry

	servers *serverList
	t       *transport
	h       *holder
	snap    *snapshots
	fo      *failoverReader
	beats   *scheduler
	polls   *scheduler
	// push is the UDP receiver, set by Start (nil: push off or not started).
	push atomic.Pointer[pushReceiver]

	nextSub atomic.Uint64
	stats   counters

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// counters are the client's running totals.
type counters struct {
	pushes, pushesApplied, polls, pollFailures atomic.Uint64
	beats, beatFailures, reregistrations       atomic.Uint64
}

// Stats is a snapshot of the client's counters.
type Stats struct {
	// PushesReceived counts UDP pushes of a service held; PushesApplied
	// those that changed it.
	PushesReceived, PushesApplied uint64
	// Polls counts instance/list polls; PollFailures those no server answered.
	Polls, PollFailures uint64
	// Beats counts beats sent; BeatFailures those no server answered;
	// Reregistrations the instances registered again after a 20404.
	Beats, BeatFailures, Reregistrations uint64
	// LastServerContact is when a server last answered 2xx (zero: never).
	LastServerContact time.Time
	// Failover reports that the failover switch is on.
	Failover bool
	// PushPort is the UDP port pushes are received on (0: push off).
	PushPort int
}

// New checks cfg and builds a client; nothing is sent until it is used.
func New(cfg Config, log *logrus.Entry) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		return nil, errors.New("client: a logger is required")
	}
	if cfg.ContextPath == "/" {
		cfg.ContextPath = ""
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	c := &Client{cfg: cfg, ns: cfg.namespace(), log: log.WithFields(logrus.Fields{"component": "client", "namespace": cfg.namespace()})}
	var addrs []string
	for _, a := range cfg.ServerAddrs {
		n, _ := normalizeAddr(a, 8848)
		addrs = append(addrs, n)
	}
	c.servers = newServerList(addrs, cfg.ServerCooldown)
	var err error
	if c.t, err = newTransport(cfg, c.servers, c.log); err != nil {
		return nil, err
	}
	if cfg.CacheDir != "" {
		dir, err := expandHome(cfg.CacheDir)
		if err != nil {
			return nil, err
		}
		c.nsDir = filepath.Join(dir, "naming", c.ns)
	}
	if cfg.SnapshotEnabled {
		c.snap = &snapshots{dir: c.nsDir, log: c.log}
	}
	if cfg.FailoverEnabled {
		c.fo = newFailoverReader(filepath.Join(c.nsDir, FailoverDir), c.log)
	}
	c.clientIP = cfg.ClientIP
	if c.clientIP == "" {
		c.clientIP = localIP()
	}
	c.h = newHolder(c.log, cfg.UpdateCacheWhenEmpty, c.snap)
	c.beats = newScheduler(cfg.BeatThreadNum)
	c.polls = newScheduler(cfg.UpdateThreadNum)
	return c, nil
}

// Start loads the snapshot (LoadCacheAtStart), reads the failover switch,
// opens the push socket and starts beats, polls and the background checks.
// It fails only when the push socket cannot be opened.
func (c *Client) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return ErrClosed
	case c.started:
		return errors.New("client: already started")
	}
	if !c.cfg.PushDisabled {
		p, err := newPushReceiver(c, c.cfg.PushAddr)
		if err != nil {
			return err
		}
		c.push.Store(p)
	}
	if c.cfg.LoadCacheAtStart {
		c.loadSnapshot()
	}
	if c.fo != nil {
		c.checkFailover()
	}
	run, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	c.started = true
	c.beats.start(run)
	c.polls.start(run)
	if p := c.push.Load(); p != nil {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); p.loop() }()
	}
	if c.fo != nil {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.failoverLoop(run) }()
	}
	if len(c.cfg.ServerAddrs) == 0 {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.endpointLoop(run) }()
	}
	fields := logrus.Fields{"servers": c.servers.list(), "clientIP": c.clientIP}
	if p := c.push.Load(); p != nil {
		fields["pushPort"] = p.port()
	}
	c.log.WithFields(fields).Info("naming client started")
	return nil
}

// Close stops beats, polls, the push socket and the background checks and
// drops the subscribers. Registered instances are not deregistered: they
// expire on the servers when their beats stop. Close is idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	started := c.started
	c.mu.Unlock()
	var err error
	if p := c.push.Load(); p != nil {
		err = p.close()
	}
	if started {
		c.cancel()
		c.beats.close()
		c.polls.close()
		c.wg.Wait()
	}
	for _, e := range c.h.all() {
		c.h.remove(e.key)
	}
	return err
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Namespace returns the namespace the client works in.
func (c *Client) Namespace() string { return c.ns }

// CacheDir returns {CacheDir}/naming/{namespace}, where snapshots and the
// failover folder live ("" without a cache dir).
func (c *Client) CacheDir() string { return c.nsDir }

// Servers returns the server list in use.
func (c *Client) Servers() []string { return c.servers.list() }

// LastServerContact returns when a server last answered successfully;
// zero if none has yet.
func (c *Client) LastServerContact() time.Time { return c.t.LastContact() }

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	s := Stats{
		PushesReceived: c.stats.pushes.Load(), PushesApplied: c.stats.pushesApplied.Load(),
		Polls: c.stats.polls.Load(), PollFailures: c.stats.pollFailures.Load(),
		Beats: c.stats.beats.Load(), BeatFailures: c.stats.beatFailures.Load(),
		Reregistrations:   c.stats.reregistrations.Load(),
		LastServerContact: c.t.LastContact(),
		Failover:          c.h.failover.Load() != nil,
	}
	if p := c.push.Load(); p != nil {
		s.PushPort = p.port()
	}
	return s
}

// loadSnapshot serves the snapshot files until the servers answer; each
// service loaded is polled at once.
func (c *Client) loadSnapshot() {
	if c.nsDir == "" {
		return
	}
	svcs := readServiceDir(c.nsDir, c.log, "snapshot", nil)
	for _, svc := range svcs {
		key := cacheKey(svc.Name, svc.Clusters)
		e, _ := c.h.getOrCreate(key, svc.Name, svc.Clusters)
		c.h.update(e, svc, time.Time{}, fromDisk)
		c.ensurePolling(e, 0)
	}
	if len(svcs) > 0 {
		c.log.WithFields(logrus.Fields{"services": len(svcs), "dir": c.nsDir}).Info("serving the snapshot until the servers answer")
	}
}

// checkFailover reads the failover folder and re-announces services whose
// view it changes.
func (c *Client) checkFailover() {
	m := c.fo.read()
	cur := c.h.failover.Load()
	switch {
	case m == nil && cur == nil:
		return
	case m == nil:
		c.h.failover.Store(nil)
	case cur != nil && sameView(*cur, m):
		return
	default:
		c.h.failover.Store(&m)
		c.log.WithField("services", len(m)).Info("failover view loaded")
	}
	c.h.reannounce()
}

func (c *Client) failoverLoop(ctx context.Context) {
	t := time.NewTicker(c.cfg.FailoverCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.checkFailover()
		}
	}
}

// localIP returns the first non-loopback IPv4 address of an interface that
// is up, else 127.0.0.1.
func localIP() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return "127.0.0.1"
	}
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

func (c *Client) String() string { return fmt.Sprintf("naming client %s %v", c.ns, c.servers.list()) }
