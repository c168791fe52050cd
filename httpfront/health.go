package httpfront

import (
	"net"
	"strconv"

	"github.com/gin-gonic/gin"

	"sextant/naming"
)

// setHealth serves PUT /health and PUT /health/instance: an operator sets
// an instance's health, allowed only when its cluster's health checker is
// NONE (otherwise the checker would overwrite it).
func (s *Server) setHealth(c *gin.Context, p *request) {
	healthy, err := p.boolean("healthy", "valid")
	if err != nil {
		s.bad(c, err)
		return
	}
	if healthy == nil {
		s.bad(c, invalid("Param 'healthy' is required."))
		return
	}
	key, err := p.service()
	if err != nil {
		s.bad(c, err)
		return
	}
	t, err := p.target()
	if err != nil {
		s.bad(c, err)
		return
	}
	svc, found := s.r.Service(key)
	if !found {
		s.bad(c, naming.Errorf(naming.ErrNotFound, "service %s is not found!", key.Grouped()))
		return
	}
	if svc.Meta.Cluster(t.Cluster).HealthChecker.Type != "NONE" {
		s.bad(c, invalid("health check is still working, service: %s", key.Grouped()))
		return
	}
	eph := false
	if in := svc.Find(t); in != nil {
		eph = in.Ephemeral
	}
	op := naming.Op{Kind: naming.OpSetHealth, Service: key, Target: t, Healthy: *healthy, Ephemeral: eph}
	if err := s.apply(c, op); err != nil {
		s.bad(c, err)
		return
	}
	ok(c)
}

// healthServer serves /health/server.
func (s *Server) healthServer(c *gin.Context, _ *request) {
	port := ""
	if _, p, err := net.SplitHostPort(s.Addr()); err == nil {
		port = p
	}
	n := len(s.r.Services("", ""))
	s.writeJSON(c, map[string]any{
		"msg": "Hello! I am Nacos-Naming and healthy! total services: " + strconv.Itoa(n) + ", local port:" + port,
	})
}

// healthCheckers serves GET /health/checkers: the checker types and their defaults.
func (s *Server) healthCheckers(c *gin.Context, _ *request) {
	s.writeJSON(c, map[string]naming.HealthChecker{
		"TCP":  {Type: "TCP"},
		"HTTP": {Type: "HTTP", Path: "/", ExpectedCodes: "200"},
		"NONE": {Type: "NONE"},
	})
}
