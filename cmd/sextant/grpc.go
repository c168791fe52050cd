package main

import (
	"context"
	"fmt"

	"github.com/sirupsen/logrus"

	"sextant/grpcfront"
	"sextant/httpfront/auth"
)

// grpcAddr is where the gRPC front listens: grpc-addr, or the HTTP port +
// 1000 on the HTTP host, where Nacos 2.x clients look for it.
func (c Config) grpcAddr() (string, error) {
	if c.GRPCAddr != "" {
		return c.GRPCAddr, nil
	}
	return grpcfront.DefaultAddr(c.HTTPAddr)
}

// grpcAccess lets the gRPC front ask the node's guard, with the HTTP
// front's rules: reads need "r" on the namespace, writes "w".
type grpcAccess struct{ g *auth.Guard }

func (a grpcAccess) Enabled() bool { return a.g != nil && a.g.Enabled() }

func (a grpcAccess) Allow(token, ns string, write bool) error {
	act := auth.Read
	if write {
		act = auth.Write
	}
	_, err := a.g.Check(auth.Credentials{AccessToken: token}, ns, act)
	return err
}

// newGRPC builds the gRPC front (before the HTTP front serves metrics,
// which read it); startGRPC starts it.
func (n *node) newGRPC(cfg Config, log *logrus.Logger) error {
	if cfg.GRPCAddr == "off" {
		return nil
	}
	gcfg := grpcfront.DefaultConfig()
	addr, err := cfg.grpcAddr()
	if err != nil {
		return fmt.Errorf("grpc: %w", err)
	}
	gcfg.Addr, gcfg.MaxConnections, gcfg.MaxMessageBytes = addr, cfg.GRPCMaxConnections, int(max(cfg.MaxBodyBytes, 4<<20))
	gcfg.PushMergeDelay, gcfg.MaxInFlight = cfg.PushMergeDelay, cfg.MaxInFlight
	if n.certs != nil {
		gcfg.TLS = n.certs.ServerConfig()
	}
	if n.cluster != nil {
		gcfg.CutOff = n.cluster.cutOff
	}
	if n.metrics != nil {
		gm := newGRPCMetrics(n.metrics)
		gcfg.ObserveRequest, gcfg.ObservePush = gm.observeRequest, gm.observePush
	}
	if n.grpc, err = grpcfront.New(gcfg, n.catalog, n.apiWriter, n.status, grpcAccess{n.guard}, log.WithField("component", "grpc")); err != nil {
		return fmt.Errorf("grpc: %w", err)
	}
	return nil
}

// startGRPC starts the gRPC front once the node is ready, so a client
// never meets a listener that keeps it waiting past its deadline.
func (n *node) startGRPC(ctx context.Context) error {
	if n.grpc == nil {
		return nil
	}
	if err := n.grpc.Start(ctx); err != nil {
		return fmt.Errorf("grpc: %w", err)
	}
	return nil
}
