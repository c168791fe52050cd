package httpfront

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"sextant/naming"
)

// restResult is Nacos's RestResult envelope of the core and console APIs.
func restResult(data any) map[string]any {
	return map[string]any{"code": 200, "message": nil, "data": data}
}

// coreNodes serves GET /nacos/v1/core/cluster/nodes (keyword filters by address).
func (s *Server) coreNodes(c *gin.Context, p *request) {
	kw := p.get("keyword")
	out := []memberJSON{}
	for _, m := range s.cl.Members() {
		if kw == "" || strings.Contains(m.Address, kw) {
			out = append(out, memberOf(m))
		}
	}
	s.writeJSON(c, restResult(out))
}

// coreSelf serves GET /nacos/v1/core/cluster/self (and /nodes/self).
func (s *Server) coreSelf(c *gin.Context, _ *request) {
	s.aboutSelf(c, func(m naming.Member) any { return memberOf(m) })
}

// aboutSelf answers RestResult(of(this node's member entry)), or 404
// when this node is not in its member list.
func (s *Server) aboutSelf(c *gin.Context, of func(naming.Member) any) {
	for _, m := range s.cl.Members() {
		if m.Self {
			s.writeJSON(c, restResult(of(m)))
			return
		}
	}
	text(c, http.StatusNotFound, "this node is not in its member list")
}

// coreSimpleNodes serves GET /nacos/v1/core/cluster/simple/nodes: the
// members' addresses.
func (s *Server) coreSimpleNodes(c *gin.Context, _ *request) {
	out := []string{}
	for _, m := range s.cl.Members() {
		out = append(out, m.Address)
	}
	s.writeJSON(c, restResult(out))
}

// coreHealth serves GET /nacos/v1/core/cluster/health: this node's state
// (UP, DOWN, SUSPICIOUS).
func (s *Server) coreHealth(c *gin.Context, _ *request) {
	s.aboutSelf(c, func(m naming.Member) any { return m.State })
}

// selectorTypes serves GET /nacos/v1/ns/service/selector/types.
func (s *Server) selectorTypes(c *gin.Context, _ *request) {
	s.writeJSON(c, restResult([]string{"none", "label"}))
}

// readiness serves GET /nacos/v1/console/health/readiness.
func (s *Server) readiness(c *gin.Context) {
	if err := s.cl.Ready(); err != nil {
		text(c, http.StatusServiceUnavailable, err.Error())
		return
	}
	text(c, http.StatusOK, "OK")
}

// liveness serves GET /nacos/v1/console/health/liveness.
func (s *Server) liveness(c *gin.Context) { text(c, http.StatusOK, "OK") }

// serverState serves GET /nacos/v1/console/server/state. version is the
// Nacos API version Sextant speaks.
func (s *Server) serverState(c *gin.Context, _ *request) {
	mode := "cluster"
	if len(s.cl.Members()) <= 1 {
		mode = "standalone"
	}
	s.writeJSON(c, map[string]any{"standalone_mode": mode, "function_mode": "naming", "version": "1.4.1"})
}
