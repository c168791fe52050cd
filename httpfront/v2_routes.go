package httpfront

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"sextant/naming"
)

// Prefixes of the Nacos 2.x Open API.
const (
	nsPrefixV2      = "/nacos/v2/ns"
	consolePrefixV2 = "/nacos/v2/console"
	corePrefixV2    = "/nacos/v2/core/cluster"
)

// v2Routes declares the Nacos 2.x Open API (reference §4) over the v1
// handlers; doc.go lists the routes. Each row has the need of the v1
// route it serves; the client views, which span namespaces, need an
// administrator.
func (s *Server) v2Routes(t *table) {
	const get, post, put, del, patch = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch
	row := func(m, path string, n need, rt v2Route, fn handler) {
		from := len(t.rows)
		t.add(m, path, n, v2Handler(rt, fn))
		for _, r := range t.rows[from:] {
			r.v2 = &rt
		}
	}
	ns := func(m, path string, n need, rt v2Route, fn handler) { row(m, nsPrefixV2+path, n, rt, fn) }
	ns(post, "/instance", needByMethod, v2Route{}, s.write(s.registerInstance))
	ns(del, "/instance", needByMethod, v2Route{}, s.deregisterInstance)
	// An update of an existing instance only (400 when absent), as 2.x.
	ns(put, "/instance", needByMethod, v2Route{notFound: 21003, prep: strictUpdate}, s.updateInstance)
	ns(patch, "/instance", needByMethod, v2Route{raw: true}, s.write(s.patchInstance))
	ns(get, "/instance", needByMethod, v2Route{notFound: 21003, shape: v2InstanceDetail}, s.instanceDetail)
	ns(get, "/instance/list", needByMethod, v2Route{shape: v2ServiceInfo}, s.listInstancesV2)
	ns(put, "/instance/beat", needByMethod, v2Route{raw: true}, s.beat)
	ns(anyMethod, "/instance/statuses/:key", needReadKey, v2Route{raw: true}, s.instanceStatuses) // the key from the path
	ns(put, "/instance/metadata/batch", needByMethod, v2Route{notFound: 21008}, s.batchMetadata(false))
	ns(del, "/instance/metadata/batch", needByMethod, v2Route{notFound: 21008}, s.batchMetadata(true))

	ns(post, "/service", needByMethod, v2Route{notFound: 21008}, s.write(s.createService))
	ns(del, "/service", needByMethod, v2Route{notFound: 21008}, s.write(s.deleteService))
	ns(put, "/service", needByMethod, v2Route{notFound: 21008, prep: s.keepThreshold}, s.write(s.updateService))
	ns(get, "/service", needByMethod, v2Route{notFound: 21008, shape: s.v2ServiceDetail}, s.getService)
	ns(get, "/service/list", needByMethod, v2Route{}, s.listServicesV2)

	ns(put, "/health", needByMethod, v2Route{notFound: 21008}, s.write(s.setHealth))
	ns(put, "/health/instance", needByMethod, v2Route{notFound: 21008}, s.write(s.setHealth))

	for _, base := range []string{"/operator", "/ops"} {
		ns(get, base+"/switches", needAuthenticated, v2Route{}, s.getSwitches)
		ns(put, base+"/switches", needAdmin, v2Route{}, s.write(s.setSwitch))
		ns(get, base+"/metrics", needNone, v2Route{prep: func(p *request) { p.orDefault("onlyStatus", "true") }}, s.metrics)
	}

	ns(get, "/client/list", needAdmin, v2Route{}, s.clientList)
	ns(get, "/client", needAdmin, v2Route{}, s.clientDetail)
	ns(get, "/client/publish/list", needAdmin, v2Route{}, s.clientPublished)
	ns(get, "/client/subscribe/list", needAdmin, v2Route{}, s.clientSubscribed)
	ns(get, "/client/service/publisher/list", needRead, v2Route{notFound: 21008}, s.servicePublishers)
	ns(get, "/client/service/subscriber/list", needRead, v2Route{notFound: 21008}, s.serviceSubscribers)

	ns(anyMethod, "/catalog/instances", needRead, v2Route{notFound: 21008}, s.catalogInstancesV2)

	// Health: data "ok", as Nacos 2.x answers; readiness fails as v1's does.
	okData := func(*request, any) any { return "ok" }
	row(get, consolePrefixV2+"/health/liveness", needNone, v2Route{shape: okData}, s.liveness)
	row(get, consolePrefixV2+"/health/readiness", needNone, v2Route{shape: okData}, s.readiness)
	row(get, consolePrefixV2+"/namespace/list", needNamespaces, v2Route{shape: restData, prep: func(p *request) { p.set("namespaceId", "") }}, s.getNamespaces)
	row(get, consolePrefixV2+"/namespace", needNamespaces, v2Route{notFound: 22001, require: "namespaceId"}, s.getNamespaces)
	row(post, consolePrefixV2+"/namespace", needAdmin, v2Route{prep: func(p *request) { p.alias("namespaceId", "customNamespaceId") }}, s.createNamespace)
	row(put, consolePrefixV2+"/namespace", needAdmin, v2Route{notFound: 22001, prep: func(p *request) {
		p.alias("namespaceId", "namespace")
		p.alias("namespaceName", "namespaceShowName")
	}}, s.updateNamespace)
	row(del, consolePrefixV2+"/namespace", needAdmin, v2Route{notFound: 22001}, s.deleteNamespace)

	row(get, corePrefixV2+"/node/self", needAuthenticated, v2Route{shape: restData}, s.coreSelf)
	row(get, corePrefixV2+"/node/list", needAuthenticated, v2Route{shape: nodesInState, prep: func(p *request) { p.alias("address", "keyword") }}, s.coreNodes)
	row(get, corePrefixV2+"/node/self/health", needAuthenticated, v2Route{shape: restData}, s.coreHealth)
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
func (s *Server) listServicesV2(ctx context.Context, p *request) answer {
	no, err := p.integer("pageNo", 1, 1, 1<<31-1)
	if err != nil {
		return bad(err)
	}
	size, err := p.pageSize(20, 500)
	if err != nil {
		return bad(err)
	}
	return s.servicePage(p, no, size, "services")
}

// catalogInstancesV2 serves v2's /catalog/instances: every cluster's
// instances, healthyOnly and enabledOnly filtering them.
func (s *Server) catalogInstancesV2(ctx context.Context, p *request) answer {
	healthy, err := p.boolOr(false, "healthyOnly")
	if err != nil {
		return bad(err)
	}
	enabled, err := p.boolOr(false, "enabledOnly")
	if err != nil {
		return bad(err)
	}
	return s.instancePage(p, "", func(in *naming.Instance) bool {
		return (!healthy || in.Healthy) && (!enabled || in.Enabled)
	})
}
