package main

import (
	"context"

	"github.com/sirupsen/logrus"

	"sextant/healthcheck"
	"sextant/naming"
)

// startProbes starts the checker of persistent instances with the node's
// defaults; it probes the services the writer says this node owns.
func startProbes(ctx context.Context, cfg Config, cat *naming.Catalog, w owningWriter, log *logrus.Logger) (*healthcheck.PersistentChecker, error) {
	pcfg := healthcheck.DefaultProbeConfig()
	pcfg.Interval, pcfg.TCPTimeout, pcfg.HTTPTimeout = cfg.HealthCheckInterval, cfg.HealthCheckTCPTimeout, cfg.HealthCheckHTTPTimeout
	pcfg.UnhealthyThreshold, pcfg.HealthyThreshold = cfg.HealthCheckUnhealthyThreshold, cfg.HealthCheckHealthyThreshold
	pcfg.Workers = cfg.HealthCheckWorkers
	pcfg.AllowInternal, pcfg.MinInterval = cfg.probesAllowInternal(), cfg.HealthCheckMinInterval
	if pcfg.AllowInternal {
		log.Info("probes may reach loopback, link-local and metadata addresses (health-check-allow-internal)")
	}
	p, err := healthcheck.NewPersistentChecker(pcfg, cat, w, nil, healthcheck.RealClock(), log.WithField("component", "probes"))
	if err != nil {
		return nil, err
	}
	return p, p.Start(ctx)
}
