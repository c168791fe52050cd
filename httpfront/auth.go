package httpfront

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

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
func credentials(c *gin.Context, p *request) auth.Credentials {
	return credentialsOf(c.GetHeader("Authorization"), p.get("accessToken"), p.get("username"), p.get("password"), p.source)
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

// authorize checks the request against the route's need (routeNeed). It
// answers the request itself and returns false when it may not go on.
func (s *Server) authorize(c *gin.Context, p *request) bool {
	if a, ok := s.access(c.Request.Method, c.FullPath(), p, c.GetHeader("Authorization")); !ok {
		s.reply(c, a)
		c.Abort()
		return false
	}
	return true
}

// access checks a request of method on route, with its parameters and
// Authorization header, against the route's need; ok false with the
// refusal to answer.
func (s *Server) access(method, route string, p *request, authorization string) (a answer, ok bool) {
	g := s.cfg.Auth
	if g == nil || !g.Enabled() {
		return answer{}, true
	}
	ns, act, exempt := routeNeed(method, route, p)
	if exempt {
		return answer{}, true
	}
	cr := credentialsOf(authorization, p.get("accessToken"), p.get("username"), p.get("password"), p.source)
	id, err := g.Check(cr, ns, act)
	if err != nil {
		return s.denyAnswer(err, route), false
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

// accessNamespace is the namespace a request on route reads or writes,
// derived from the very value its handler parses: the key's namespace on
// /instance/statuses, namespaceId elsewhere (blank meaning public). Every
// access check takes its namespace from here.
func accessNamespace(route string, p *request) string {
	if route == nsPrefix+"/instance/statuses" {
		if k, err := p.statusesKey(); err == nil {
			return k.Namespace
		}
	}
	return p.namespace()
}

// deny answers a refused request (denyAnswer).
func (s *Server) deny(c *gin.Context, err error) {
	s.reply(c, s.denyAnswer(err, c.Request.URL.Path))
	c.Abort()
}

// routeNeed says what a Nacos API route needs: the namespace the request
// names (namespaceId, blank meaning public) and the action, or exempt for
// the few routes any client may call (server status, as Nacos exempts
// them). Routes not listed read with GET and write otherwise.
func routeNeed(method, route string, p *request) (ns string, act auth.Action, exempt bool) {
	if ns, act, exempt, ok := v2Need(method, route, p); ok {
		return ns, act, exempt
	}
	route = strings.Replace(route, nsPrefix+"/ops/", nsPrefix+"/operator/", 1)
	if strings.HasPrefix(route, authPrefix+"/") {
		return "", 0, true // login, and user management, which checks for itself
	}
	switch route {
	case nsPrefix + "/operator/metrics", consolePrefix + "/server/state":
		return "", 0, true
	case nsPrefix + "/operator/switches":
		if method == http.MethodGet {
			return "", auth.Authenticated, false
		}
		return "", auth.Admin, false
	case consolePrefix + "/namespaces", nsPrefix + "/service/names":
		switch {
		case method != http.MethodGet && route == consolePrefix+"/namespaces":
			return "", auth.Admin, false
		case p.get("namespaceId") == "":
			// Lists of every namespace: any caller, who sees only the
			// namespaces it may read (mayRead).
			return "", auth.Authenticated, false
		}
		return p.namespace(), auth.Read, false
	case nsPrefix + "/operator/servers", nsPrefix + "/operator/push/state", nsPrefix + "/operator/distro/server",
		nsPrefix + "/raft/leader", nsPrefix + "/health/server", nsPrefix + "/health/checkers",
		corePrefix + "/cluster/nodes", corePrefix + "/cluster/nodes/self", corePrefix + "/cluster/self",
		corePrefix + "/cluster/simple/nodes", corePrefix + "/cluster/health", nsPrefix + "/service/selector/types":
		return "", auth.Authenticated, false
	case nsPrefix + "/instance/statuses", nsPrefix + "/catalog/instances":
		return accessNamespace(route, p), auth.Read, false
	}
	if method == http.MethodGet || method == http.MethodHead {
		return accessNamespace(route, p), auth.Read, false
	}
	return accessNamespace(route, p), auth.Write, false
}
