package httpfront

import (
	"errors"
	"net/http"
	"strings"

	"sextant/httpfront/auth"
	"sextant/naming"
)

// Guard checks who a request comes from and what it may do; *auth.Guard
// implements it. A nil Config.Auth means no access control at all.
type Guard interface {
	// Enabled reports whether requests are checked.
	Enabled() bool
	// Check identifies the caller and checks act on namespace ns.
	Check(cred auth.Credentials, ns string, act auth.Action) (auth.Identity, error)
	// Login checks a password sent from source and returns a token.
	Login(username, password, source string) (auth.Session, error)
	// HashPassword hashes a new password for an op.
	HashPassword(password string) (string, error)
	// State returns the current users, roles and permissions.
	State() *naming.AuthState
	// Allowed reports whether an identified caller may do act on ns.
	Allowed(id auth.Identity, ns string, act auth.Action) bool
}

// credentials reads what a request carries to prove who it comes from:
// an "Authorization: Bearer" header, the accessToken parameter, or the
// username and password parameters. Nothing else (no User-Agent, no
// source address) is trusted.
func credentials(p *request) auth.Credentials {
	return credentialsOf(p.authorization, p.get("accessToken"), p.get("username"), p.get("password"), p.source)
}

// credentialsOf builds the credentials from the Authorization header, the
// parameters and the source address.
func credentialsOf(authorization, accessToken, username, password, source string) auth.Credentials {
	cr := auth.Credentials{AccessToken: accessToken, Username: username, Password: password, Source: source}
	if h := authorization; len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		cr.Bearer = strings.TrimSpace(h[7:])
	}
	return cr
}

// errorsIsDenied reports whether err is a refusal deny answers 403.
func errorsIsDenied(err error) bool { return errors.Is(err, auth.ErrDenied) }

// need is the access a route needs: the table's need column.
type need uint8

const (
	// needByMethod: read (GET, HEAD) or write (the rest) of the
	// namespace the request names.
	needByMethod need = iota
	// needRead: read of the namespace the request names, any method.
	needRead
	// needReadKey: read of the namespace of the key parameter
	// (/instance/statuses), the very value its handler parses.
	needReadKey
	// needNamespaces: read of namespaceId; without one the route lists
	// every namespace, to any caller, who sees only those it may read
	// (mayRead).
	needNamespaces
	// needAuthenticated: any known caller.
	needAuthenticated
	// needAdmin: an administrator.
	needAdmin
	// needNone: anyone (server status, health, login; user management
	// checks for itself).
	needNone
)

// of says what a request of method with parameters p needs: the
// namespace and the action, or exempt.
func (n need) of(method string, p *request) (ns string, act auth.Action, exempt bool) {
	switch n {
	case needNone:
		return "", 0, true
	case needAuthenticated:
		return "", auth.Authenticated, false
	case needAdmin:
		return "", auth.Admin, false
	case needNamespaces:
		if p.get("namespaceId") == "" {
			return "", auth.Authenticated, false
		}
		return p.namespace(), auth.Read, false
	case needReadKey:
		if k, err := p.statusesKey(); err == nil {
			return k.Namespace, auth.Read, false
		}
		return p.namespace(), auth.Read, false
	case needRead:
		return p.namespace(), auth.Read, false
	}
	if method == http.MethodGet || method == http.MethodHead {
		return p.namespace(), auth.Read, false
	}
	return p.namespace(), auth.Write, false
}

// access checks a request against the route's need; ok false with the
// refusal to answer.
func (s *Server) access(rt *route, p *request) (a answer, ok bool) {
	g := s.cfg.Auth
	if g == nil || !g.Enabled() {
		return answer{}, true
	}
	ns, act, exempt := rt.need.of(p.method, p)
	if exempt {
		return answer{}, true
	}
	id, err := g.Check(credentials(p), ns, act)
	if err != nil {
		return deny(err), false
	}
	p.id = &id
	return answer{}, true
}

// mayRead reports whether the caller of p may read namespace ns: the
// filter of the routes that list several namespaces.
func (s *Server) mayRead(p *request, ns string) bool {
	g := s.cfg.Auth
	if g == nil || !g.Enabled() {
		return true
	}
	return p.id != nil && g.Allowed(*p.id, ns, auth.Read)
}

// isAdmin reports whether the caller of p is an administrator (everyone
// is, with access control off).
func (s *Server) isAdmin(p *request) bool {
	g := s.cfg.Auth
	return g == nil || !g.Enabled() || p.id != nil && p.id.Admin
}
