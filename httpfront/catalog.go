package httpfront

import (
	"context"
	"net/http"
	"strings"

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
func (s *Server) catalogServices(ctx context.Context, p *request) answer {
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
		return s.jsonAnswer(out)
	}
	no, size, err := p.page()
	if err != nil {
		return bad(err)
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
	return s.jsonAnswer(map[string]any{"serviceList": views, "count": len(svcs)})
}

// catalogService serves GET /catalog/service (404 when absent).
func (s *Server) catalogService(ctx context.Context, p *request) answer {
	key, err := p.service()
	if err != nil {
		return bad(err)
	}
	svc, missing, found := s.serviceOr404(key)
	if !found {
		return missing
	}
	return s.jsonAnswer(map[string]any{
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
func (s *Server) catalogInstances(ctx context.Context, p *request) answer {
	cluster, err := p.required("clusterName")
	if err != nil {
		return bad(err)
	}
	return s.instancePage(p, cluster, func(*naming.Instance) bool { return true })
}

// instancePage answers {"list","count"}: a page (pageNo, pageSize) of the
// service's instances in full, of one cluster ("" for all) and those keep
// keeps; 404 for a missing service or cluster.
func (s *Server) instancePage(p *request, cluster string, keep func(*naming.Instance) bool) answer {
	key, err := p.service()
	if err != nil {
		return bad(err)
	}
	no, size, err := p.page()
	if err != nil {
		return bad(err)
	}
	svc, missing, found := s.serviceOr404(key)
	if !found {
		return missing
	}
	if cluster != "" && !hasCluster(svc, cluster) {
		return textAnswer(http.StatusNotFound, "cluster "+cluster+" is not found!")
	}
	list := []instanceJSON{}
	for _, in := range svc.Instances {
		if (cluster == "" || in.Cluster == cluster) && keep(in) {
			list = append(list, instanceOf(in, key))
		}
	}
	from, to := pageOf(len(list), no, size)
	page := append([]instanceJSON{}, list[from:to]...)
	return s.jsonAnswer(map[string]any{"list": page, "count": len(list)})
}

// serviceOr404 returns the service, or the answer 404 "service X is not
// found!" and false.
func (s *Server) serviceOr404(key naming.ServiceKey) (*naming.Service, answer, bool) {
	svc, found := s.r.Service(key)
	if !found {
		return nil, textAnswer(http.StatusNotFound, "service "+key.Grouped()+" is not found!"), false
	}
	return svc, answer{}, true
}
