package httpfront

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"sextant/nacoswire"
	"sextant/naming"
)

// serviceView is one row of the console's service list.
type serviceView = nacoswire.ServiceView

// catalogFilter selects services by the console's search parameters.
func catalogFilter(p *request) func(*naming.Service) bool {
	name, group, inst := p.get("serviceNameParam"), p.get("groupNameParam"), p.get("instance")
	hasIP := p.get("hasIpCount")
	return func(svc *naming.Service) bool {
		if name != "" && !strings.Contains(svc.Key.Name, name) || group != "" && !strings.Contains(svc.Key.Group, group) {
			return false
		}
		if b, _ := naming.ParseBool(hasIP); b && len(svc.Instances) == 0 {
			return false
		}
		if inst == "" {
			return true
		}
		for _, in := range svc.Instances {
			if strings.Contains(in.Key().Addr(), inst) {
				return true
			}
		}
		return false
	}
}

// catalogServices serves GET /catalog/services: a page of service views,
// or with withInstances=true every matching service with its instances by
// cluster.
func (s *Server) catalogServices(c *gin.Context, p *request) {
	keep := catalogFilter(p)
	var svcs []*naming.Service
	for _, svc := range s.r.Services(p.namespace(), "") {
		if keep(svc) {
			svcs = append(svcs, svc)
		}
	}
	if b, _ := naming.ParseBool(p.get("withInstances")); b {
		out := make([]map[string]any, 0, len(svcs))
		for _, svc := range svcs {
			clusters := map[string]any{}
			for _, cl := range clustersOf(svc) {
				hosts := []map[string]any{}
				for _, in := range svc.Instances {
					if in.Cluster == cl.Name {
						hosts = append(hosts, map[string]any{"ip": in.IP, "port": in.Port, "metadata": emptyIfNil(in.Metadata),
							"valid": in.Healthy, "weight": in.Weight, "enabled": in.Enabled})
					}
				}
				clusters[cl.Name] = map[string]any{"hosts": hosts}
			}
			out = append(out, map[string]any{"serviceName": svc.Key.Name, "groupName": svc.Key.Group,
				"clusterMap": clusters, "metadata": emptyIfNil(svc.Meta.Metadata)})
		}
		s.writeJSON(c, out)
		return
	}
	no, size, err := p.page()
	if err != nil {
		s.bad(c, err)
		return
	}
	from, to := pageOf(len(svcs), no, size)
	views := make([]serviceView, 0, to-from)
	for _, svc := range svcs[from:to] {
		v := serviceView{Name: svc.Key.Name, GroupName: svc.Key.Group, ClusterCount: len(clustersOf(svc)),
			IPCount: len(svc.Instances), TriggerFlag: "false"}
		for _, in := range svc.Instances {
			if in.Healthy {
				v.HealthyInstanceCount++
			}
		}
		if svc.Select(nil, false).Protected {
			v.TriggerFlag = "true"
		}
		views = append(views, v)
	}
	s.writeJSON(c, map[string]any{"serviceList": views, "count": len(svcs)})
}

// catalogService serves GET /catalog/service (404 when absent).
func (s *Server) catalogService(c *gin.Context, p *request) {
	key, err := p.service()
	if err != nil {
		s.bad(c, err)
		return
	}
	svc, found := s.serviceOr404(c, key)
	if !found {
		return
	}
	s.writeJSON(c, map[string]any{
		"service": map[string]any{
			"name":             key.Name,
			"groupName":        key.Group,
			"protectThreshold": svc.Meta.ProtectThreshold,
			"selector":         selectorOf(svc.Meta),
			"metadata":         emptyIfNil(svc.Meta.Metadata),
		},
		"clusters": clustersOf(svc),
	})
}

// catalogInstances serves /catalog/instances: a page of one cluster's
// instances in full (404 for a missing service or cluster).
func (s *Server) catalogInstances(c *gin.Context, p *request) {
	cluster, err := p.required("clusterName")
	if err != nil {
		s.bad(c, err)
		return
	}
	s.instancePage(c, p, cluster, func(*naming.Instance) bool { return true })
}

// instancePage answers {"list","count"}: a page (pageNo, pageSize) of the
// service's instances in full, of one cluster ("" for all) and those keep
// keeps; 404 for a missing service or cluster.
func (s *Server) instancePage(c *gin.Context, p *request, cluster string, keep func(*naming.Instance) bool) {
	key, err := p.service()
	if err != nil {
		s.bad(c, err)
		return
	}
	no, size, err := p.page()
	if err != nil {
		s.bad(c, err)
		return
	}
	svc, found := s.serviceOr404(c, key)
	if !found {
		return
	}
	if cluster != "" && !hasCluster(svc, cluster) {
		text(c, http.StatusNotFound, "cluster "+cluster+" is not found!")
		return
	}
	list := []instanceJSON{}
	for _, in := range svc.Instances {
		if (cluster == "" || in.Cluster == cluster) && keep(in) {
			list = append(list, instanceOf(in, key))
		}
	}
	from, to := pageOf(len(list), no, size)
	page := append([]instanceJSON{}, list[from:to]...)
	s.writeJSON(c, map[string]any{"list": page, "count": len(list)})
}

// serviceOr404 returns the service, or answers 404 "service X is not found!".
func (s *Server) serviceOr404(c *gin.Context, key naming.ServiceKey) (*naming.Service, bool) {
	svc, found := s.r.Service(key)
	if !found {
		text(c, http.StatusNotFound, "service "+key.Grouped()+" is not found!")
	}
	return svc, found
}
