package httpfront

import (
	"context"
	"net/http"
	"strings"
)

// Route prefixes.
const (
	nsPrefix      = "/nacos/v1/ns"
	corePrefix    = "/nacos/v1/core"
	consolePrefix = "/nacos/v1/console"
	// InternalPrefix is where Config.Internal is mounted.
	InternalPrefix = "/sextant"
	// MetricsPath is where Config.Metrics is mounted.
	MetricsPath = "/metrics"
)

// handler serves a route: it reads the request and returns the answer,
// knowing nothing of gin, net/http or fasthttp.
type handler func(ctx context.Context, p *request) answer

// route is one row of the route table: every route is declared once,
// here, and both adapters (gin, the listener) serve the same rows
// through the same pipeline (pipeline.go).
type route struct {
	method, path string // path as gin writes it (":key" for a parameter)
	fn           handler
	// need is the access the route needs (auth.go).
	need need
	// hot routes are those clients send by the thousand (beats,
	// registrations, deregistrations, lists): the listener looks them up
	// first, by comparison, before its map of the rest.
	hot bool
	// naming routes get the readiness check and consistent reads.
	naming bool
	// noShed routes (health checks, metrics) are never refused for load.
	noShed bool
	// v2 routes answer in the 2.x envelope (v2_envelope.go).
	v2 *v2Route
	// web routes are served by a net/http handler (the console's pages,
	// metrics, Config.Extra): gin runs it inside the pipeline, the
	// listener hands them to gin.
	web http.Handler
}

// table is the route table: every endpoint of the API; doc.go lists them
// with their behaviour.
type table struct {
	rows []*route
}

// add declares a route; under an Any path (method ""), one row per
// method gin's Any serves.
func (t *table) add(method, path string, n need, fn handler) *route {
	if method == "" {
		var last *route
		for _, m := range anyMethods {
			last = t.add(m, path, n, fn)
		}
		return last
	}
	rt := &route{method: method, path: path, fn: fn, need: n,
		naming: strings.HasPrefix(path, nsPrefix+"/") || strings.HasPrefix(path, nsPrefixV2+"/"),
		noShed: exemptFromShedding(path)}
	t.rows = append(t.rows, rt)
	return rt
}

// anyMethods are the methods of a route that takes any (as gin's Any).
var anyMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodHead, http.MethodOptions, http.MethodDelete, http.MethodConnect, http.MethodTrace}

// anyMethod declares a route for every method.
const anyMethod = ""

// routes builds the route table.
func (s *Server) routes() *table {
	t := &table{}
	const get, post, put, del, patch = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch
	if s.cfg.Metrics != nil {
		t.add(get, MetricsPath, needNone, nil).web = s.cfg.Metrics
	}
	for path, h := range s.cfg.Extra {
		t.add(get, path, needNone, nil).web = h
	}

	ns := func(m, path string, n need, fn handler) *route { return t.add(m, nsPrefix+path, n, fn) }
	ns(post, "/instance", needByMethod, s.write(s.registerInstance)).hot = true
	ns(del, "/instance", needByMethod, s.deregisterInstance).hot = true
	ns(put, "/instance", needByMethod, s.updateInstance)
	ns(patch, "/instance", needByMethod, s.write(s.patchInstance))
	ns(get, "/instance", needByMethod, s.instanceDetail)
	ns(get, "/instance/list", needByMethod, s.listInstances).hot = true
	ns(put, "/instance/beat", needByMethod, s.beat).hot = true
	ns(anyMethod, "/instance/statuses", needReadKey, s.instanceStatuses)
	ns(put, "/instance/metadata/batch", needByMethod, s.batchMetadata(false))
	ns(del, "/instance/metadata/batch", needByMethod, s.batchMetadata(true))

	ns(post, "/service", needByMethod, s.write(s.createService))
	ns(del, "/service", needByMethod, s.write(s.deleteService))
	ns(put, "/service", needByMethod, s.write(s.updateService))
	ns(get, "/service", needByMethod, s.getService)
	ns(get, "/service/list", needByMethod, s.listServices)
	ns(anyMethod, "/service/names", needNamespaces, s.serviceNames)
	ns(get, "/service/subscribers", needByMethod, s.subscribers)
	ns(get, "/service/selector/types", needAuthenticated, s.selectorTypes)

	ns(put, "/cluster", needByMethod, s.write(s.updateCluster))

	for _, base := range []string{"/operator", "/ops"} {
		ns(get, base+"/switches", needAuthenticated, s.getSwitches)
		ns(put, base+"/switches", needAdmin, s.write(s.setSwitch))
		ns(get, base+"/metrics", needNone, s.metrics)
		ns(get, base+"/servers", needAuthenticated, s.servers)
		ns(anyMethod, base+"/push/state", needAuthenticated, s.pushState)
		ns(get, base+"/distro/server", needAuthenticated, s.distroServer)
	}
	ns(get, "/raft/leader", needAuthenticated, s.raftLeader)

	ns(put, "/health", needByMethod, s.write(s.setHealth))
	ns(put, "/health/instance", needByMethod, s.write(s.setHealth))
	ns(anyMethod, "/health/server", needAuthenticated, s.healthServer)
	ns(get, "/health/checkers", needAuthenticated, s.healthCheckers)

	ns(get, "/catalog/services", needByMethod, s.catalogServices)
	ns(get, "/catalog/service", needByMethod, s.catalogService)
	ns(anyMethod, "/catalog/instances", needRead, s.catalogInstances)

	core := func(path string, fn handler) { t.add(get, corePrefix+"/cluster"+path, needAuthenticated, fn) }
	core("/nodes", s.coreNodes)
	core("/self", s.coreSelf)
	core("/nodes/self", s.coreSelf) // Sextant's older path
	core("/simple/nodes", s.coreSimpleNodes)
	core("/health", s.coreHealth)

	t.add(get, consolePrefix+"/namespaces", needNamespaces, s.getNamespaces)
	t.add(post, consolePrefix+"/namespaces", needAdmin, s.createNamespace)
	t.add(put, consolePrefix+"/namespaces", needAdmin, s.updateNamespace)
	t.add(del, consolePrefix+"/namespaces", needAdmin, s.deleteNamespace)
	t.add(get, consolePrefix+"/health/readiness", needNone, s.readiness)
	t.add(get, consolePrefix+"/health/liveness", needNone, s.liveness)
	t.add(get, consolePrefix+"/server/state", needNone, s.serverState)
	s.authRoutes(t)
	s.consoleRoutes(t)
	s.v2Routes(t)
	return t
}
