package httpfront

import "context"

// distroServer answers GET /operator/distro/server: which node is
// responsible for a service, as {"responsibleServer":"host:port"}.
func (s *Server) distroServer(ctx context.Context, p *request) answer {
	key, err := p.service()
	if err != nil {
		return bad(err)
	}
	owner := s.cl.Owner(key)
	if owner == "" {
		owner = s.self()
	}
	return s.jsonAnswer(map[string]any{"responsibleServer": owner})
}

// self is this node's address in its member list ("" when absent).
func (s *Server) self() string {
	for _, m := range s.cl.Members() {
		if m.Self {
			return m.Address
		}
	}
	return ""
}
