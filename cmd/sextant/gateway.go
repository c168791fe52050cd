package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/patrickmn/go-cache"
	"github.com/sirupsen/logrus"

	"sextant/client"
	"sextant/dnsfront"
	"sextant/httpfront"
	"sextant/naming"
)

// The gateway (`sextant gateway`) runs the DNS front beside applications,
// fed by the client package instead of a catalog of its own making: it
// follows services of a remote cluster (those listed in its config, those
// loaded from its snapshot, and any a DNS query names), keeps them in a
// local catalog that mirrors what the client holds, and answers from
// memory, so DNS keeps answering while the registry is unreachable.
//
// A DNS query for a service not followed yet starts following it and waits
// up to miss-wait (1 s) for the first answer; when none comes in time the
// query is answered NXDOMAIN and a later query finds the service. Services
// followed on demand that stay unknown are dropped after missTTL without a
// query. The same mirror serves a read-only Nacos HTTP API (instance/list
// and the other reads; writes answer 400 "the gateway is read-only") and
// GET /gateway/status and GET /metrics.

// Gateway limits.
const (
	// maxNamespaces bounds the namespaces followed (one client each).
	maxNamespaces = 16
	// missTTL drops an on-demand follow of a service that has no
	// instances and was not asked for this long.
	missTTL = 10 * time.Minute
	// missRetry is the shortest time between two on-demand fetches of a
	// service that failed.
	missRetry = 5 * time.Second
	// tickEvery is the period of the staleness and expiry checks.
	tickEvery = 5 * time.Second
	// probeAfter: with no server contact for this long (or half of
	// stale-warn-after, if shorter), the gateway asks a server for its
	// health, so staleness is measured even when nothing is polled.
	probeAfter = 10 * time.Second
)

// gateway is one running `sextant gateway`.
type gateway struct {
	cfg    GatewayConfig
	logger *logrus.Logger
	log    *logrus.Entry
	mirror *naming.Catalog
	dns    *dnsfront.Server
	front  *httpfront.Server
	start  time.Time
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	clients map[string]*client.Client
	follows map[naming.ServiceKey]*follow
	closed  bool

	syncMu sync.Mutex // serialises changes to the mirror

	// asked holds the on-demand follows a DNS query named within missTTL;
	// tick drops an on-demand follow that is not in it and holds nothing.
	// Neither cache runs a janitor: tick deletes what expired.
	asked *cache.Cache
	// missed holds the on-demand follows whose fetch failed within
	// missRetry; a query for one of them does not wait for another fetch.
	missed *cache.Cache

	tickMu      sync.Mutex // one tick at a time
	staleWarned bool       // guarded by tickMu
}

// follow is one service the gateway follows.
type follow struct {
	key      naming.ServiceKey
	onDemand bool
	cancel   func()

	mu sync.Mutex // guards cancel
}

func runGateway(args []string, stderr io.Writer) int {
	cfg, path, err := parseGatewayArgs(args, stderr)
	if code, ok := configExit(err, stderr, "sextant gateway"); !ok {
		return code
	}
	log := newLogger(stderr, cfg.LogLevel)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	g, err := startGateway(ctx, cfg, log)
	if err != nil {
		log.WithError(err).Error("gateway start failed")
		return 1
	}
	reload := func() {
		c, err := gatewayLayers.build(args, path)
		reloadLogLevel(log, c.LogLevel, err)
	}
	return serveUntilSignal(ctx, log, g.alive, reload, g.Close)
}

// startGateway builds and starts the gateway: the clients (loading the
// snapshot when asked), the services to follow, then the DNS and HTTP
// fronts, so the first query already sees what the snapshot holds.
func startGateway(ctx context.Context, cfg GatewayConfig, logger *logrus.Logger) (g *gateway, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	run, cancel := context.WithCancel(context.WithoutCancel(ctx))
	g = &gateway{cfg: cfg, logger: logger, log: logger.WithField("component", "gateway"), mirror: naming.NewCatalog(),
		start: time.Now(), ctx: run, cancel: cancel,
		clients: map[string]*client.Client{}, follows: map[naming.ServiceKey]*follow{},
		asked: cache.New(missTTL, 0), missed: cache.New(missRetry, 0)}
	defer func() {
		if err != nil {
			g.Close()
			g = nil
		}
	}()
	namespaces := []string{cfg.Namespace}
	if cfg.LoadCacheAtStart {
		namespaces = append(namespaces, g.snapshotNamespaces()...)
	}
	for _, ns := range namespaces {
		if _, err := g.clientFor(ns); err != nil {
			return g, err
		}
	}
	for _, s := range cfg.Services {
		if _, err := g.follow(naming.NewServiceKey(cfg.Namespace, "", s), false); err != nil {
			return g, err
		}
	}

	dcfg := cfg.dnsConfig()
	dcfg.OnMiss = g.onMiss
	if g.dns, err = dnsfront.New(dcfg, g.mirror, logger.WithField("component", "dns")); err != nil {
		return g, fmt.Errorf("dns: %w", err)
	}
	if err = g.dns.Start(ctx); err != nil {
		return g, fmt.Errorf("dns: %w", err)
	}
	if cfg.HTTPAddr != "" {
		if err = g.startHTTP(ctx); err != nil {
			return g, fmt.Errorf("http: %w", err)
		}
	}
	g.wg.Add(1)
	go func() { defer g.wg.Done(); g.tickLoop() }()
	fields := logrus.Fields{"dns": g.dns.UDPAddr(), "zone": dcfg.Zone, "servers": cfg.Servers, "followed": g.followCount()}
	if g.front != nil {
		fields["http"] = g.front.Addr()
	}
	g.log.WithFields(fields).Info("gateway ready")
	return g, nil
}

// snapshotNamespaces lists the namespaces that have a snapshot folder.
func (g *gateway) snapshotNamespaces() []string {
	ents, err := os.ReadDir(filepath.Join(g.cfg.CacheDir, "naming"))
	if err != nil {
		return nil
	}
	var out []string
	for _, de := range ents {
		if de.IsDir() && naming.ValidateNamespaceID(de.Name()) == nil && de.Name() != g.cfg.Namespace {
			out = append(out, de.Name())
		}
	}
	return out
}

// clientFor returns the client of a namespace, starting it (and following
// what its snapshot holds) on first use.
func (g *gateway) clientFor(ns string) (*client.Client, error) {
	g.mu.Lock()
	if c, ok := g.clients[ns]; ok {
		g.mu.Unlock()
		return c, nil
	}
	if g.closed {
		g.mu.Unlock()
		return nil, client.ErrClosed
	}
	if len(g.clients) >= maxNamespaces {
		g.mu.Unlock()
		return nil, fmt.Errorf("gateway follows %d namespaces already", maxNamespaces)
	}
	ccfg := client.DefaultConfig()
	ccfg.ServerAddrs, ccfg.Endpoint, ccfg.NamespaceId = g.cfg.Servers, g.cfg.Endpoint, ns
	ccfg.TimeoutMs = max(g.cfg.RequestTimeout.Milliseconds(), 1)
	ccfg.ServerCooldown = g.cfg.ServerCooldown
	ccfg.CacheDir, ccfg.SnapshotEnabled, ccfg.LoadCacheAtStart = g.cfg.CacheDir, g.cfg.Snapshot, g.cfg.LoadCacheAtStart
	ccfg.UpdateCacheWhenEmpty = g.cfg.UpdateCacheWhenEmpty
	ccfg.FailoverEnabled = g.cfg.CacheDir != ""
	ccfg.FailoverCheckInterval = g.cfg.FailoverCheckInterval
	ccfg.UpdateThreadNum, ccfg.BeatThreadNum = g.cfg.PollThreads, 1
	ccfg.PushDisabled, ccfg.PushAddr, ccfg.ClientIP = !g.cfg.Push, g.cfg.PushAddr, g.cfg.ClientIP
	ccfg.Username, ccfg.Password, ccfg.CAFile = g.cfg.Username, g.cfg.Password, g.cfg.CAFile
	ccfg.AppName = "sextant-gateway"
	if g.cfg.TLS {
		ccfg.Scheme = "https"
	}
	c, err := client.New(ccfg, g.logger.WithField("component", "gateway-client"))
	if err == nil {
		err = c.Start(g.ctx)
	}
	if err != nil {
		g.mu.Unlock()
		return nil, fmt.Errorf("client for namespace %s: %w", ns, err)
	}
	g.clients[ns] = c
	g.mu.Unlock()
	// Follow what the snapshot brought, mirrored before any query.
	for _, ref := range c.Services() {
		key := naming.ServiceKey{Namespace: ns, Group: ref.GroupName, Name: ref.ServiceName}
		if len(ref.Clusters) > 0 || key.Validate() != nil {
			continue
		}
		if _, err := g.follow(key, false); err != nil {
			g.log.WithError(err).WithField("service", key.String()).Warn("snapshot service not followed")
		}
	}
	return c, nil
}

func (g *gateway) client(ns string) *client.Client {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.clients[ns]
}

// alive reports whether the gateway still serves; the systemd watchdog asks.
func (g *gateway) alive() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return !g.closed && g.dns != nil && g.dns.UDPAddr() != ""
}

// Close stops the fronts, then the clients. It is idempotent.
func (g *gateway) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	clients := g.clients
	g.mu.Unlock()
	var errs []error
	if g.front != nil {
		errs = append(errs, g.front.Close())
	}
	if g.dns != nil {
		errs = append(errs, g.dns.Close())
	}
	g.cancel()
	g.wg.Wait()
	for _, c := range clients {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
