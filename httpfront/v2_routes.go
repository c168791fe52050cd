package httpfront

import (
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"sextant/httpfront/auth"
	"sextant/naming"
)

// Prefixes of the Nacos 2.x Open API.
const (
	nsPrefixV2      = "/nacos/v2/ns"
	consolePrefixV2 = "/nacos/v2/console"
	corePrefixV2    = "/nacos/v2/core/cluster"
)

// v2Routes registers the Nacos 2.x Open API (reference §4) over the v1
// handlers; doc.go lists the routes.
func (s *Server) v2Routes(e *gin.Engine) {
	ns := e.Group(nsPrefixV2, s.v2Envelope, s.traffic, s.consistentRead)
	ns.POST("/instance", s.v2(v2Route{}, s.registerInstance))
	ns.DELETE("/instance", s.v2(v2Route{}, s.deregisterInstance))
	// An update of an existing instance only (400 when absent), as 2.x.
	ns.PUT("/instance", s.v2(v2Route{notFound: 21003, prep: strictUpdate}, s.updateInstance))
	ns.PATCH("/instance", s.v2(v2Route{raw: true}, s.patchInstance))
	ns.GET("/instance", s.v2(v2Route{notFound: 21003, shape: v2InstanceDetail}, s.instanceDetail))
	ns.GET("/instance/list", s.v2(v2Route{shape: v2ServiceInfo}, s.listInstancesV2))
	ns.PUT("/instance/beat", s.v2(v2Route{raw: true}, s.beat))
	ns.Any("/instance/statuses/:key", s.v2(v2Route{raw: true}, s.instanceStatuses)) // the key from the path (h)
	ns.PUT("/instance/metadata/batch", s.v2(v2Route{notFound: 21008}, s.batchMetadata(false)))
	ns.DELETE("/instance/metadata/batch", s.v2(v2Route{notFound: 21008}, s.batchMetadata(true)))

	ns.POST("/service", s.v2(v2Route{notFound: 21008}, s.createService))
	ns.DELETE("/service", s.v2(v2Route{notFound: 21008}, s.deleteService))
	ns.PUT("/service", s.v2(v2Route{notFound: 21008, prep: s.keepThreshold}, s.updateService))
	ns.GET("/service", s.v2(v2Route{notFound: 21008, shape: s.v2ServiceDetail}, s.getService))
	ns.GET("/service/list", s.v2(v2Route{}, s.listServicesV2))

	ns.PUT("/health", s.v2(v2Route{notFound: 21008}, s.setHealth))
	ns.PUT("/health/instance", s.v2(v2Route{notFound: 21008}, s.setHealth))

	for _, base := range []string{"/operator", "/ops"} {
		op := ns.Group(base)
		op.GET("/switches", s.v2(v2Route{}, s.getSwitches))
		op.PUT("/switches", s.v2(v2Route{}, s.setSwitch))
		op.GET("/metrics", s.v2(v2Route{prep: func(p *request) { p.orDefault("onlyStatus", "true") }}, s.metrics))
	}

	ns.GET("/client/list", s.v2(v2Route{}, s.clientList))
	ns.GET("/client", s.v2(v2Route{}, s.clientDetail))
	ns.GET("/client/publish/list", s.v2(v2Route{}, s.clientPublished))
	ns.GET("/client/subscribe/list", s.v2(v2Route{}, s.clientSubscribed))
	ns.GET("/client/service/publisher/list", s.v2(v2Route{notFound: 21008}, s.servicePublishers))
	ns.GET("/client/service/subscriber/list", s.v2(v2Route{notFound: 21008}, s.serviceSubscribers))

	ns.Any("/catalog/instances", s.v2(v2Route{notFound: 21008}, s.catalogInstancesV2))

	con := e.Group(consolePrefixV2, s.v2Envelope)
	// Health: data "ok", as Nacos 2.x answers; readiness fails as v1's does.
	okData := func(*request, any) any { return "ok" }
	con.GET("/health/liveness", s.v2(v2Route{shape: okData}, func(c *gin.Context, _ *request) { s.liveness(c) }))
	con.GET("/health/readiness", s.v2(v2Route{shape: okData}, func(c *gin.Context, _ *request) { s.readiness(c) }))
	con.GET("/namespace/list", s.v2(v2Route{shape: restData, prep: func(p *request) { p.set("namespaceId", "") }}, s.getNamespaces))
	con.GET("/namespace", s.v2(v2Route{notFound: 22001, require: "namespaceId"}, s.getNamespaces))
	con.POST("/namespace", s.v2(v2Route{prep: func(p *request) { p.alias("namespaceId", "customNamespaceId") }}, s.createNamespace))
	con.PUT("/namespace", s.v2(v2Route{notFound: 22001, prep: func(p *request) {
		p.alias("namespaceId", "namespace")
		p.alias("namespaceName", "namespaceShowName")
	}}, s.updateNamespace))
	con.DELETE("/namespace", s.v2(v2Route{notFound: 22001}, s.deleteNamespace))

	core := e.Group(corePrefixV2, s.v2Envelope)
	core.GET("/node/self", s.v2(v2Route{shape: restData}, s.coreSelf))
	core.GET("/node/list", s.v2(v2Route{shape: nodesInState, prep: func(p *request) { p.alias("address", "keyword") }}, s.coreNodes))
	core.GET("/node/self/health", s.v2(v2Route{shape: restData}, s.coreHealth))
}

// v2Need is routeNeed for the v2 routes: the need of the v1 route they
// serve, or for the client views, which span namespaces, an
// administrator. ok is false for a route that is not v2.
func v2Need(method, route string, p *request) (ns string, act auth.Action, exempt, ok bool) {
	switch {
	case strings.HasPrefix(route, nsPrefixV2+"/client/service/"):
		return p.namespace(), auth.Read, false, true
	case strings.HasPrefix(route, nsPrefixV2+"/client"):
		return "", auth.Admin, false, true
	case strings.HasPrefix(route, nsPrefixV2+"/"):
		route = nsPrefix + strings.TrimSuffix(strings.TrimPrefix(route, nsPrefixV2), "/:key")
	case strings.HasPrefix(route, consolePrefixV2+"/health/"):
		return "", 0, true, true
	case strings.HasPrefix(route, consolePrefixV2+"/namespace"):
		route = consolePrefix + "/namespaces"
	case strings.HasPrefix(route, corePrefixV2+"/"):
		return "", auth.Authenticated, false, true
	default:
		return "", 0, false, false
	}
	ns, act, exempt = routeNeed(method, route, p)
	return ns, act, exempt, true
}

// strictUpdate makes PUT /instance an update of an existing instance, as
// v1 does for Java clients (agent.go).
func strictUpdate(p *request) { p.agent = clientInfo{typ: agentJava, version: [3]int{2, 0, 0}} }

// keepThreshold lets v2's PUT /service leave out protectThreshold, which
// v1 requires: the service's own is kept.
func (s *Server) keepThreshold(p *request) {
	if key, err := p.service(); err == nil {
		if svc, ok := s.r.Service(key); ok {
			p.orDefault("protectThreshold", strconv.FormatFloat(svc.Meta.ProtectThreshold, 'f', -1, 64))
		}
	}
}

// restData is the data of a v1 RestResult.
func restData(_ *request, data any) any {
	if m, ok := data.(map[string]any); ok {
		return m["data"]
	}
	return data
}

// nodesInState is node/list's payload: the members, those in the state
// parameter's state when it is given.
func nodesInState(p *request, data any) any {
	list, _ := restData(p, data).([]any)
	st := p.get("state")
	out := []any{}
	for _, m := range list {
		if mm, ok := m.(map[string]any); ok && (st == "" || strings.EqualFold(mm["state"].(string), st)) {
			out = append(out, m)
		}
	}
	return out
}

// v2InstanceDetail is v1's instance detail with serviceName for service.
func v2InstanceDetail(_ *request, data any) any {
	if m, ok := data.(map[string]any); ok {
		m["serviceName"] = m["service"]
		delete(m, "service")
	}
	return data
}

// v2ServiceDetail is v1's service detail in 2.x's shape: namespace,
// serviceName, groupName, clusterMap (clusters by name), metadata,
// protectThreshold, selector and ephemeral (true for a service that
// registrations made, whose instances are all ephemeral).
func (s *Server) v2ServiceDetail(p *request, data any) any {
	m, ok := data.(map[string]any)
	if !ok {
		return data
	}
	clusters := map[string]any{}
	list, _ := m["clusters"].([]any)
	for _, c := range list {
		if cm, ok := c.(map[string]any); ok {
			clusters[cm["name"].(string)] = cm
		}
	}
	ephemeral := false
	if key, err := p.service(); err == nil {
		if svc, ok := s.r.Service(key); ok {
			ephemeral = svc.Meta.Implicit
			for _, in := range svc.Instances {
				ephemeral = ephemeral && in.Ephemeral
			}
		}
	}
	return map[string]any{
		"namespace": m["namespaceId"], "serviceName": m["name"], "groupName": m["groupName"],
		"clusterMap": clusters, "metadata": m["metadata"], "protectThreshold": m["protectThreshold"],
		"selector": m["selector"], "ephemeral": ephemeral,
	}
}

// listServicesV2 serves v2's GET /service/list: {"count","services"},
// pageNo defaulting to 1 and pageSize to 20, at most 500.
func (s *Server) listServicesV2(c *gin.Context, p *request) {
	no, err := p.integer("pageNo", 1, 1, 1<<31-1)
	if err != nil {
		s.bad(c, err)
		return
	}
	size, err := p.pageSize(20, 500)
	if err != nil {
		s.bad(c, err)
		return
	}
	s.servicePage(c, p, no, size, "services")
}

// catalogInstancesV2 serves v2's /catalog/instances: every cluster's
// instances, healthyOnly and enabledOnly filtering them.
func (s *Server) catalogInstancesV2(c *gin.Context, p *request) {
	healthy, err := p.boolOr(false, "healthyOnly")
	if err != nil {
		s.bad(c, err)
		return
	}
	enabled, err := p.boolOr(false, "enabledOnly")
	if err != nil {
		s.bad(c, err)
		return
	}
	s.instancePage(c, p, "", func(in *naming.Instance) bool {
		return (!healthy || in.Healthy) && (!enabled || in.Enabled)
	})
}
