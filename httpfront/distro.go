package httpfront

import (
	"context"

	"sextant/naming"
)

// responsible is implemented by clusters that can name the node
// responsible for a service (Distro's owner). A standalone node is
// responsible for everything.
type responsible interface {
	Owner(key naming.ServiceKey) string
}

// distroServer answers GET /operator/distro/server: which node is
// responsible for a service, as {"responsibleServer":"host:port"}.
func (s *Server) distroServer(ctx context.Context, p *request) answer {
	key, err := p.service()
	if err != nil {
		return bad(err)
	}
	owner := ""
	if r, ok := s.cl.(responsible); ok {
		owner = r.Owner(key)
	} else {
		for _, m := range s.cl.Members() {
			if m.Self {
				owner = m.Address
			}
		}
	}
	return s.jsonAnswer(map[string]any{"responsibleServer": owner})
}
