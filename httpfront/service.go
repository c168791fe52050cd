package httpfront

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"sextant/naming"
)

// serviceMeta reads protectThreshold, metadata and selector onto base.
// requireThreshold makes protectThreshold mandatory (PUT).
func serviceMeta(p *request, base naming.ServiceMeta, requireThreshold bool) (naming.ServiceMeta, error) {
	m := base
	if requireThreshold {
		if _, err := p.required("protectThreshold"); err != nil {
			return m, err
		}
	}
	if s := p.get("protectThreshold"); s != "" {
		t, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(t) || t < 0 || t > 1 {
			return m, invalid("Param 'protectThreshold' is illegal, it must be a number between 0 and 1: %q", s)
		}
		m.ProtectThreshold = t
	}
	md, provided, err := p.metadata("metadata")
	if err != nil {
		return m, err
	}
	if provided || m.Metadata == nil {
		m.Metadata = md
	}
	if raw := p.get("selector"); raw != "" {
		var sel naming.Selector
		if err := json.Unmarshal([]byte(raw), &sel); err != nil || sel.Type == "" {
			return m, invalid("Param 'selector' is illegal, it must be JSON like {\"type\":\"none\"}: %s", clip(raw))
		}
		sel.Type = strings.ToLower(sel.Type)
		if sel.Type != "none" && sel.Type != "label" {
			return m, invalid("Param 'selector' is illegal, type must be none or label: %q", sel.Type)
		}
		m.Selector = sel
	}
	if m.Selector.Type == "" {
		m.Selector.Type = "none"
	}
	return m, nil
}

// createService serves POST /service (400 when it exists).
func (s *Server) createService(p *request) (naming.Op, error) {
	key, err := p.service()
	if err != nil {
		return naming.Op{}, err
	}
	meta, err := serviceMeta(p, naming.ServiceMeta{}, false)
	if err != nil {
		return naming.Op{}, err
	}
	return naming.Op{Kind: naming.OpCreateService, Service: key, Meta: &meta}, nil
}

// deleteService serves DELETE /service (400 when absent or not empty).
func (s *Server) deleteService(p *request) (naming.Op, error) {
	key, err := p.service()
	if err != nil {
		return naming.Op{}, err
	}
	return naming.Op{Kind: naming.OpDeleteService, Service: key}, nil
}

// updateService serves PUT /service. protectThreshold is required;
// metadata and selector keep their values when absent.
func (s *Server) updateService(p *request) (naming.Op, error) {
	key, err := p.service()
	if err != nil {
		return naming.Op{}, err
	}
	svc, found := s.r.Service(key)
	if !found {
		return naming.Op{}, naming.Errorf(naming.ErrNotFound, "service %s not found!", key.Grouped())
	}
	meta, err := serviceMeta(p, svc.Meta, true)
	if err != nil {
		return naming.Op{}, err
	}
	return naming.Op{Kind: naming.OpUpdateService, Service: key, Meta: &meta}, nil
}

// getService serves GET /service (404 when absent).
func (s *Server) getService(ctx context.Context, p *request) answer {
	key, err := p.service()
	if err != nil {
		return bad(err)
	}
	svc, found := s.r.Service(key)
	if !found {
		return textAnswer(http.StatusNotFound, "service "+key.Grouped()+" is not found!")
	}
	return s.jsonAnswer(map[string]any{
		"name":             key.Name,
		"groupName":        key.Group,
		"namespaceId":      key.Namespace,
		"protectThreshold": svc.Meta.ProtectThreshold,
		"metadata":         emptyIfNil(svc.Meta.Metadata),
		"selector":         selectorOf(svc.Meta),
		"clusters":         clustersOf(svc),
	})
}

// listServices serves GET /service/list: {"count":N,"doms":[...]} for one
// group (default DEFAULT_GROUP) with the group prefix stripped, or for
// every group with groupName "*", where names stay grouped; a label
// selector keeps the services it matches (serviceFilter), before paging.
func (s *Server) listServices(ctx context.Context, p *request) answer {
	no, size, err := p.page()
	if err != nil {
		return bad(err)
	}
	return s.servicePage(p, no, size, "doms")
}

// servicePage answers {"count", field: page no of size of serviceList}.
func (s *Server) servicePage(p *request, no, size int, field string) answer {
	names, err := s.serviceList(p)
	if err != nil {
		return bad(err)
	}
	from, to := pageOf(len(names), no, size)
	return s.jsonAnswer(map[string]any{"count": len(names), field: names[from:to]})
}

// serviceList is the sorted names service/list pages through.
func (s *Server) serviceList(p *request) ([]string, error) {
	group := p.get("groupName")
	if group == "" {
		group = naming.DefaultGroup
	}
	all := group == "*"
	if all {
		group = ""
	}
	keep, err := parseServiceFilter(p.get("selector"))
	if err != nil {
		return nil, err
	}
	svcs := s.r.Services(p.namespace(), group)
	names := make([]string, 0, len(svcs))
	for _, svc := range svcs {
		if keep != nil && !keep(svc) {
			continue
		}
		if all {
			names = append(names, svc.Key.Grouped())
		} else {
			names = append(names, svc.Key.Name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// serviceNames serves /service/names: grouped names per namespace, all
// namespaces unless namespaceId is given, filtered by the substring expr.
func (s *Server) serviceNames(ctx context.Context, p *request) answer {
	ns := p.get("namespaceId")
	expr := p.get("expr")
	out := map[string][]string{}
	count := 0
	for _, svc := range s.r.Services(ns, "") {
		name := svc.Key.Grouped()
		if expr != "" && !strings.Contains(name, expr) || !s.mayRead(p, svc.Key.Namespace) {
			continue
		}
		out[svc.Key.Namespace] = append(out[svc.Key.Namespace], name)
		count++
	}
	return s.jsonAnswer(map[string]any{"services": out, "count": count})
}

// subscribers serves GET /service/subscribers from the push registry.
func (s *Server) subscribers(ctx context.Context, p *request) answer {
	no, size, err := p.page()
	if err != nil {
		return bad(err)
	}
	key, err := p.service()
	if err != nil {
		return bad(err)
	}
	subs := s.push.Subscribers(key)
	list := make([]map[string]any, 0, len(subs))
	for _, sub := range subs {
		list = append(list, map[string]any{
			"addrStr":     sub.Addr.String(),
			"agent":       sub.Agent,
			"app":         sub.App,
			"ip":          sub.Addr.Addr().String(),
			"port":        sub.Addr.Port(),
			"namespaceId": key.Namespace,
			"serviceName": key.Grouped(),
			"cluster":     sub.Clusters,
		})
	}
	from, to := pageOf(len(list), no, size)
	return s.jsonAnswer(map[string]any{"subscribers": list[from:to], "count": len(list)})
}
