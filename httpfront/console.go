package httpfront

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
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

// coreSelf serves GET /nacos/v1/core/cluster/nodes/self.
func (s *Server) coreSelf(c *gin.Context, _ *request) {
	for _, m := range s.cl.Members() {
		if m.Self {
			s.writeJSON(c, restResult(memberOf(m)))
			return
		}
	}
	text(c, http.StatusNotFound, "this node is not in its member list")
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
