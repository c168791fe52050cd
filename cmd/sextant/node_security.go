package main

import (
	"context"
	"fmt"

	"github.com/sirupsen/logrus"

	"sextant/httpfront"
)

// secure sets up what guards the HTTP front: access control (the guard
// starts creating the first administrator, through the node's writer),
// the in-flight bound, and HTTPS.
func (n *node) secure(ctx context.Context, cfg Config, log *logrus.Logger, fcfg *httpfront.Config) error {
	g, err := newGuard(cfg, n.catalog, n.writer, log)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	n.guard = g
	if err := g.Start(ctx); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	fcfg.Auth = g
	fcfg.MaxInFlight = cfg.MaxInFlight
	fcfg.MaxConns, fcfg.MaxConnsPerIP = cfg.MaxConnections, cfg.MaxConnectionsPerIP
	if n.certs, err = loadTLS(cfg); err != nil {
		return err
	}
	if n.certs != nil {
		fcfg.TLS = n.certs.ServerConfig()
	}
	if cfg.AuthEnabled {
		n.log.Info("access control is on: Nacos API requests need a login")
	}
	return nil
}

// reloadTLS re-reads the HTTPS certificate (SIGHUP); a bad file keeps the
// current one.
func (n *node) reloadTLS(log *logrus.Logger) {
	if n == nil || n.certs == nil {
		return
	}
	if n.cluster != nil && n.cluster.raftCerts != nil {
		if err := n.cluster.raftCerts.Reload(); err != nil {
			log.WithError(err).Error("reload: keeping the current certificate of the Raft port")
		}
	}
	if err := n.certs.Reload(); err != nil {
		log.WithError(err).Error("reload: keeping the current TLS certificate")
		return
	}
	f := logrus.Fields{}
	if c := n.certs.Certificate(); c != nil && c.Leaf != nil {
		f["subject"], f["not_after"] = c.Leaf.Subject.String(), c.Leaf.NotAfter
	}
	log.WithFields(f).Info("TLS certificate reloaded")
}
