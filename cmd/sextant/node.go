package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"sextant/consensus"
	"sextant/dnsfront"
	"sextant/grpcfront"
	"sextant/healthcheck"
	"sextant/history"
	"sextant/httpfront"
	"sextant/httpfront/auth"
	"sextant/httpfront/certs"
	"sextant/naming"
)

// node is one running Sextant server: the catalog, the writer that makes
// changes durable, the two health checkers and the two fronts.
type node struct {
	log     *logrus.Entry
	catalog *naming.Catalog
	// writer is the node's naming.Writer: the standalone store, or the
	// router of a cluster member. Both also say which services this node
	// judges and drop empty records, as the beat checker needs.
	writer  healthcheck.BeatWriter
	status  httpfront.Cluster
	store   *consensus.Standalone
	cluster *clusterNode
	beats   *healthcheck.BeatChecker
	probes  *healthcheck.PersistentChecker
	http    *httpfront.Server
	grpc    *grpcfront.Server
	dns     *dnsfront.Server
	// apiWriter is the writer the fronts use (writes counted for metrics);
	// metrics the node's registry.
	apiWriter owningWriter
	metrics   *prometheus.Registry
	cancel    context.CancelFunc
	// guard is the access control, certs the HTTPS certificate (nil
	// without TLS); see node_security.go.
	guard *auth.Guard
	certs *certs.Reloader
	// history keeps the last hour for the console (console.go).
	history *history.Ring
}

// startNode builds every component in dependency order and starts them:
// store first, fronts last, so that nothing is served before the data is
// loaded. On error, whatever was started is closed again.
func startNode(ctx context.Context, cfg Config, log *logrus.Logger) (n *node, err error) {
	ctx, cancel := context.WithCancel(ctx)
	n = &node{log: log.WithField("component", "node"), catalog: naming.NewCatalog(), cancel: cancel}
	defer func() {
		if err != nil {
			n.Close()
			n = nil
		}
	}()

	var internal http.Handler
	if cfg.Clustered() {
		if n.cluster, err = startCluster(ctx, cfg, n.catalog, log); err != nil {
			return n, fmt.Errorf("cluster: %w", err)
		}
		n.writer, n.status, internal = n.cluster.router, n.cluster, n.cluster.internal
	} else {
		wcfg := consensus.DefaultStandaloneConfig()
		wcfg.DataDir, wcfg.Self, wcfg.Sync, wcfg.SnapshotEvery = cfg.DataDir, cfg.HTTPAddr, cfg.Fsync, cfg.SnapshotEvery
		wcfg.Limits = cfg.limits()
		if n.store, err = consensus.NewStandalone(wcfg, n.catalog, log.WithField("component", "store")); err != nil {
			return n, fmt.Errorf("store: %w", err)
		}
		if err = n.store.Start(ctx); err != nil {
			return n, fmt.Errorf("store: %w", err)
		}
		n.writer, n.status = n.store, soloCluster{n.store}
	}

	hcfg := healthcheck.DefaultConfig()
	hcfg.SweepInterval = cfg.BeatSweepInterval
	hcfg.SelfPreservation, hcfg.PreserveShare = cfg.BeatPreserveShare > 0, cfg.BeatPreserveShare
	var peers healthcheck.Peers // a lone node misses nobody
	if n.cluster != nil && n.cluster.members != nil {
		peers = n.cluster.members
	}
	offset, err := clockOffset()
	if err != nil {
		return n, err
	}
	if n.beats, err = healthcheck.NewBeatChecker(hcfg, n.catalog, n.writer, beatClock(offset), peers, log.WithField("component", "beats")); err != nil {
		return n, fmt.Errorf("beat checker: %w", err)
	}
	if err = n.beats.Start(ctx); err != nil {
		return n, fmt.Errorf("beat checker: %w", err)
	}
	if n.probes, err = startProbes(ctx, cfg, n.catalog, n.writer, log); err != nil {
		return n, fmt.Errorf("persistent checker: %w", err)
	}

	dcfg := cfg.dnsConfig()
	dcfg.RecursionAllow, dcfg.RateLimit, dcfg.RateLimitExempt = cfg.DNSRecursionAllow, cfg.DNSRateLimit, cfg.DNSRateLimitExempt
	if n.dns, err = dnsfront.New(dcfg, n.catalog, log.WithField("component", "dns")); err != nil {
		return n, fmt.Errorf("dns: %w", err)
	}
	if err = n.dns.Start(ctx); err != nil {
		return n, fmt.Errorf("dns: %w", err)
	}

	fcfg := httpfront.DefaultConfig()
	fcfg.Addr, fcfg.MaxBodyBytes = cfg.HTTPAddr, cfg.MaxBodyBytes
	fcfg.InternalMaxBodyBytes = max(fcfg.InternalMaxBodyBytes, cfg.MaxBodyBytes)
	fcfg.Push.Enabled, fcfg.Push.Target = cfg.PushEnabled, cfg.PushTarget
	fcfg.Push.MergeDelay = cfg.PushMergeDelay
	if err = pushSecurity(cfg, &fcfg.Push); err != nil {
		return n, err
	}
	fcfg.Internal, fcfg.InternalSigned = internal, signedBy(cfg.ClusterSecret)
	if err = n.secure(ctx, cfg, log, &fcfg); err != nil {
		return n, err
	}
	var writes *writeMetrics
	n.apiWriter, writes = n.instrument(&fcfg, cfg.MetricsNamespaceLabels, log.WithField("component", "metrics"))
	if n.history, err = n.startHistory(ctx, writes); err != nil {
		return n, fmt.Errorf("history: %w", err)
	}
	fcfg.Console = consoleSource{n: n, ring: n.history, zone: dcfg.Zone, dnsAddr: cfg.DNSAddr}
	if err = n.newGRPC(cfg, log); err != nil {
		return n, err
	}
	if n.http, err = httpfront.New(fcfg, n.catalog, n.apiWriter, n.status, log.WithField("component", "http")); err != nil {
		return n, fmt.Errorf("http: %w", err)
	}
	n.http.SetCheckLog(n.probes)
	if err = n.http.Start(ctx); err != nil {
		return n, fmt.Errorf("http: %w", err)
	}
	if n.cluster != nil {
		// Peers starting together load from each other, so this runs once
		// this node's HTTP front answers them; until it is done the node
		// answers naming requests with 503 (readiness too).
		if err = n.cluster.load(ctx); err != nil {
			return n, fmt.Errorf("cluster: load from peers: %w", err)
		}
	}
	if err = n.startGRPC(ctx); err != nil {
		return n, err
	}
	n.log.WithFields(logrus.Fields{"http": n.http.Addr(), "grpc": n.grpcAddr(), "dns": n.dns.UDPAddr(), "zone": dcfg.Zone, "data": cfg.DataDir}).Info("node ready")
	return n, nil
}

// grpcAddr is the gRPC front's address, "" when it is off.
func (n *node) grpcAddr() string {
	if n.grpc == nil || n.grpc.Addr() == nil {
		return ""
	}
	return n.grpc.Addr().String()
}

// soloCluster is a standalone node as the HTTP front sees it: it answers
// for every service, and every read it serves is consistent.
type soloCluster struct{ *consensus.Standalone }

func (soloCluster) Owner(naming.ServiceKey) string { return "" }
func (soloCluster) Reads() httpfront.LeaderReads   { return nil }

// Reads serves the HTTP front's consistent reads through the Raft leader.
func (c *clusterNode) Reads() httpfront.LeaderReads { return c }

// alive reports whether the node still serves; the systemd watchdog asks.
func (n *node) alive() bool { return n.status.Ready() == nil }

// Close stops the node: the fronts first, so no request is accepted that
// could not be completed (the gRPC front first of all: it asks its clients
// to move to another member and waits for them), then the probes and the
// beat checker, then the store, which flushes what was acknowledged. It is
// safe to call more than once.
func (n *node) Close() error {
	var errs []error
	if n.grpc != nil {
		errs = append(errs, n.grpc.Close())
	}
	if n.http != nil {
		errs = append(errs, n.http.Close())
	}
	if n.dns != nil {
		errs = append(errs, n.dns.Close())
	}
	if n.probes != nil {
		errs = append(errs, n.probes.Close())
	}
	if n.beats != nil {
		errs = append(errs, n.beats.Close())
	}
	if n.cluster != nil {
		errs = append(errs, n.cluster.Close())
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
	}
	if n.guard != nil {
		errs = append(errs, n.guard.Close())
	}
	if n.history != nil {
		errs = append(errs, n.history.Close())
	}
	n.cancel()
	return errors.Join(errs...)
}
