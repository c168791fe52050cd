package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"

	"sextant/consensus"
	"sextant/dnsfront"
	"sextant/healthcheck"
	"sextant/httpfront"
	"sextant/naming"
)

// node is one running Sextant server: the catalog, the writer that makes
// changes durable, the beat checker and the two fronts.
type node struct {
	log     *logrus.Entry
	catalog *naming.Catalog
	writer  *consensus.Standalone
	beats   *healthcheck.BeatChecker
	http    *httpfront.Server
	dns     *dnsfront.Server
	cancel  context.CancelFunc
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

	wcfg := consensus.DefaultStandaloneConfig()
	wcfg.DataDir, wcfg.Self, wcfg.Sync, wcfg.SnapshotEvery = cfg.DataDir, cfg.HTTPAddr, cfg.Fsync, cfg.SnapshotEvery
	if n.writer, err = consensus.NewStandalone(wcfg, n.catalog, log.WithField("component", "store")); err != nil {
		return n, fmt.Errorf("store: %w", err)
	}
	if err = n.writer.Start(ctx); err != nil {
		return n, fmt.Errorf("store: %w", err)
	}

	hcfg := healthcheck.DefaultConfig()
	hcfg.SweepInterval = cfg.BeatSweepInterval
	if n.beats, err = healthcheck.NewBeatChecker(hcfg, n.catalog, n.writer, healthcheck.RealClock(), log.WithField("component", "beats")); err != nil {
		return n, fmt.Errorf("beat checker: %w", err)
	}
	if err = n.beats.Start(ctx); err != nil {
		return n, fmt.Errorf("beat checker: %w", err)
	}

	dcfg := dnsfront.DefaultConfig()
	dcfg.Addr, dcfg.Zone, dcfg.TTL, dcfg.NegativeTTL = cfg.DNSAddr, cfg.DNSZone, cfg.DNSTTL, cfg.DNSNegativeTTL
	dcfg.Recursors, dcfg.MaxUDPSize = cfg.DNSRecursors, cfg.DNSMaxUDPSize
	if n.dns, err = dnsfront.New(dcfg, n.catalog, log.WithField("component", "dns")); err != nil {
		return n, fmt.Errorf("dns: %w", err)
	}
	if err = n.dns.Start(ctx); err != nil {
		return n, fmt.Errorf("dns: %w", err)
	}

	fcfg := httpfront.DefaultConfig()
	fcfg.Addr, fcfg.MaxBodyBytes = cfg.HTTPAddr, cfg.MaxBodyBytes
	fcfg.Push.Enabled, fcfg.Push.Target = cfg.PushEnabled, cfg.PushTarget
	if n.http, err = httpfront.New(fcfg, n.catalog, n.writer, n.writer, log.WithField("component", "http")); err != nil {
		return n, fmt.Errorf("http: %w", err)
	}
	if err = n.http.Start(ctx); err != nil {
		return n, fmt.Errorf("http: %w", err)
	}
	n.log.WithFields(logrus.Fields{"http": n.http.Addr(), "dns": n.dns.UDPAddr(), "zone": dcfg.Zone, "data": cfg.DataDir}).Info("node ready")
	return n, nil
}

// alive reports whether the node still serves; the systemd watchdog asks.
func (n *node) alive() bool { return n.writer.Ready() == nil }

// Close stops the node: the fronts first, so no request is accepted that
// could not be completed, then the beat checker, then the store, which
// flushes what was acknowledged. It is safe to call more than once.
func (n *node) Close() error {
	var errs []error
	if n.http != nil {
		errs = append(errs, n.http.Close())
	}
	if n.dns != nil {
		errs = append(errs, n.dns.Close())
	}
	if n.beats != nil {
		errs = append(errs, n.beats.Close())
	}
	if n.writer != nil {
		errs = append(errs, n.writer.Close())
	}
	n.cancel()
	return errors.Join(errs...)
}
