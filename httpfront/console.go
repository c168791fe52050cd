package httpfront

import (
	"context"
	"net/http"
	"strings"

	"sextant/naming"
)

// restResult is Nacos's RestResult envelope of the core and console APIs.
func restResult(data any) map[string]any {
	return map[string]any{"code": 200, "message": nil, "data": data}
}

// coreNodes serves GET /nacos/v1/core/cluster/nodes (keyword filters by address).
func (s *Server) coreNodes(ctx context.Context, p *request) answer {
	kw := p.get("keyword")
	out := []memberJSON{}
	for _, m := range s.cl.Members() {
		if kw == "" || strings.Contains(m.Address, kw) {
			out = append(out, memberOf(m))
		}
	}
	return s.jsonAnswer(restResult(out))
}

// coreSelf serves GET /nacos/v1/core/cluster/self (and /nodes/self).
func (s *Server) coreSelf(ctx context.Context, _ *request) answer {
	return s.aboutSelf(func(m naming.Member) any { return memberOf(m) })
}

// aboutSelf answers RestResult(of(this node's member entry)), or 404
// when this node is not in its member list.
func (s *Server) aboutSelf(of func(naming.Member) any) answer {
	for _, m := range s.cl.Members() {
		if m.Self {
			return s.jsonAnswer(restResult(of(m)))
		}
	}
	return textAnswer(http.StatusNotFound, "this node is not in its member list")
}

// coreSimpleNodes serves GET /nacos/v1/core/cluster/simple/nodes: the
// members' addresses.
func (s *Server) coreSimpleNodes(ctx context.Context, _ *request) answer {
	out := []string{}
	for _, m := range s.cl.Members() {
		out = append(out, m.Address)
	}
	return s.jsonAnswer(restResult(out))
}

// coreHealth serves GET /nacos/v1/core/cluster/health: this node's state
// (UP, DOWN, SUSPICIOUS).
func (s *Server) coreHealth(ctx context.Context, _ *request) answer {
	return s.aboutSelf(func(m naming.Member) any { return m.State })
}

// selectorTypes serves GET /nacos/v1/ns/service/selector/types.
func (s *Server) selectorTypes(ctx context.Context, _ *request) answer {
	return s.jsonAnswer(restResult([]string{"none", "label"}))
}

// readiness serves GET /nacos/v1/console/health/readiness.
func (s *Server) readiness(context.Context, *request) answer {
	if err := s.cl.Ready(); err != nil {
		return textAnswer(http.StatusServiceUnavailable, err.Error())
	}
	return textAnswer(http.StatusOK, "OK")
}

// liveness serves GET /nacos/v1/console/health/liveness.
func (s *Server) liveness(context.Context, *request) answer {
	return textAnswer(http.StatusOK, "OK")
}

// serverState serves GET /nacos/v1/console/server/state. version is the
// Nacos API version Sextant speaks.
func (s *Server) serverState(ctx context.Context, _ *request) answer {
	mode := "cluster"
	if len(s.cl.Members()) <= 1 {
		mode = "standalone"
	}
	return s.jsonAnswer(map[string]any{"standalone_mode": mode, "function_mode": "naming", "version": "1.4.1"})
}
