package httpfront

import (
	"context"
	"net"
	"strconv"

	"sextant/naming"
)

// setHealth serves PUT /health and PUT /health/instance: an operator sets
// an instance's health, allowed only when its cluster's health checker is
// NONE (otherwise the checker would overwrite it).
func (s *Server) setHealth(p *request) (naming.Op, error) {
	healthy, err := p.boolean("healthy", "valid")
	if err != nil {
		return naming.Op{}, err
	}
	if healthy == nil {
		return naming.Op{}, invalid("Param 'healthy' is required.")
	}
	key, err := p.service()
	if err != nil {
		return naming.Op{}, err
	}
	t, err := p.target()
	if err != nil {
		return naming.Op{}, err
	}
	svc, found := s.r.Service(key)
	if !found {
		return naming.Op{}, naming.Errorf(naming.ErrNotFound, "service %s is not found!", key.Grouped())
	}
	if svc.Meta.Cluster(t.Cluster).HealthChecker.Type != "NONE" {
		return naming.Op{}, invalid("health check is still working, service: %s", key.Grouped())
	}
	eph := false
	if in := svc.Find(t); in != nil {
		eph = in.Ephemeral
	}
	op := naming.Op{Kind: naming.OpSetHealth, Service: key, Target: t, Healthy: *healthy, Ephemeral: eph}
	return op, nil
}

// healthServer serves /health/server.
func (s *Server) healthServer(ctx context.Context, _ *request) answer {
	port := ""
	if _, p, err := net.SplitHostPort(s.Addr()); err == nil {
		port = p
	}
	n := len(s.r.Services("", ""))
	return s.jsonAnswer(map[string]any{
		"msg": "Hello! I am Nacos-Naming and healthy! total services: " + strconv.Itoa(n) + ", local port:" + port,
	})
}

// healthCheckers serves GET /health/checkers: the checker types and their defaults.
func (s *Server) healthCheckers(ctx context.Context, _ *request) answer {
	return s.jsonAnswer(map[string]naming.HealthChecker{
		"TCP":  {Type: "TCP"},
		"HTTP": {Type: "HTTP", Path: "/", ExpectedCodes: "200"},
		"NONE": {Type: "NONE"},
	})
}
