package httpfront

import (
	"context"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"sextant/naming"
)

// listInstancesV2 serves v2's GET /instance/list: the instance/list body
// (the same cache and rules as v1) in 2.x's ServiceInfo form: grouped
// names, clusterName for v1's clusters, cacheMillis the push interval.
// A caller that gives a UDP port (2.x's ip and port, or v1's clientIP and
// udpPort) is subscribed for pushes as v1 subscribes it.
func (s *Server) listInstancesV2(_ context.Context, p *request) answer {
	p.alias("clusterName", "clusters")
	p.alias("ip", "clientIP")
	p.alias("port", "udpPort")
	lp := listParamsOf(p)
	q, err := lp.check()
	if err != nil {
		return bad(err)
	}
	s.subscribe(&q, &lp, p.ua, p.agent, p.source, p.sw)
	svc, _ := s.r.Service(q.key)
	body := s.lists.get(svc, listView{
		key: q.key, clusters: lp.clusters, healthyOnly: q.healthyOnly,
		flavour: flavourGrouped, cacheMillis: p.sw.DefaultPushCacheMillis,
	})
	return answer{status: http.StatusOK, json: true, body: finishList(body.head, nowMillis())}
}

// v2ServiceInfo keeps the fields of 2.x's ServiceInfo from a v1 list and
// adds groupName.
func v2ServiceInfo(p *request, data any) any {
	m, ok := data.(map[string]any)
	if !ok {
		return data
	}
	out := map[string]any{}
	for _, k := range []string{"name", "clusters", "cacheMillis", "hosts", "lastRefTime", "checksum", "allIPs", "reachProtectionThreshold", "valid"} {
		out[k] = m[k]
	}
	name, _ := m["name"].(string)
	group, _, _ := strings.Cut(name, naming.GroupSeparator)
	out["groupName"] = group
	return out
}

// HTTP clients as Nacos 2.x names them: an instance registered over HTTP
// belongs to the client "ip:port#ephemeral", a UDP push subscriber to
// "ip:udpPort#true".

// clientID is the id of the client an instance or subscriber belongs to.
func clientID(addr string, ephemeral bool) string {
	return addr + "#" + strconv.FormatBool(ephemeral)
}

// clientFacts is what the client views gather: for each client, the
// instances it publishes and the services it subscribes to.
type clientFacts struct {
	published  map[string][]publishedRef
	subscribed map[string][]subscribedRef
}

type publishedRef struct {
	key naming.ServiceKey
	in  *naming.Instance
}

type subscribedRef struct {
	key            naming.ServiceKey
	app, agent, ip string
	port           int
	lastSeen       int64 // ms
}

// clients gathers the clients of every namespace.
func (s *Server) clients() clientFacts {
	f := clientFacts{published: map[string][]publishedRef{}, subscribed: map[string][]subscribedRef{}}
	for _, svc := range s.r.Services("", "") {
		for _, in := range svc.Instances {
			id := clientID(in.Key().Addr(), in.Ephemeral)
			f.published[id] = append(f.published[id], publishedRef{svc.Key, in})
		}
		for _, sub := range s.push.Subscribers(svc.Key) {
			id := clientID(sub.Addr.String(), true)
			f.subscribed[id] = append(f.subscribed[id], subscribedRef{svc.Key, sub.App, sub.Agent, sub.Addr.Addr().String(), int(sub.Addr.Port()), sub.LastSeen.UnixMilli()})
		}
	}
	return f
}

// clientList serves GET /client/list: every client id, sorted.
func (s *Server) clientList(ctx context.Context, _ *request) answer {
	f := s.clients()
	ids := []string{}
	for id := range f.published {
		ids = append(ids, id)
	}
	for id := range f.subscribed {
		if _, dup := f.published[id]; !dup {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return s.jsonAnswer(ids)
}

// clientOf reads clientId and returns the facts, or the answer (400,
// 404) and false.
func (s *Server) clientOf(p *request) (string, clientFacts, answer, bool) {
	id, err := p.required("clientId")
	if err != nil {
		return "", clientFacts{}, bad(err), false
	}
	f := s.clients()
	if len(f.published[id]) == 0 && len(f.subscribed[id]) == 0 {
		return "", f, textAnswer(http.StatusNotFound, "clientId "+id+" not exist"), false
	}
	return id, f, answer{}, true
}

// clientDetail serves GET /client (clientId).
func (s *Server) clientDetail(ctx context.Context, p *request) answer {
	id, f, missing, ok := s.clientOf(p)
	if !ok {
		return missing
	}
	addr, eph, _ := strings.Cut(id, "#")
	ip, port, _ := net.SplitHostPort(addr)
	pn, _ := strconv.Atoi(port)
	var last int64
	for _, r := range f.published[id] {
		last = max(last, r.in.LastBeat())
	}
	for _, r := range f.subscribed[id] {
		last = max(last, r.lastSeen)
	}
	return s.jsonAnswer(map[string]any{
		"clientId": id, "ephemeral": eph == "true", "lastUpdatedTime": last,
		"clientType": "ipPort", "clientIp": ip, "clientPort": pn,
	})
}

// clientPublished serves GET /client/publish/list (clientId): the
// instances the client publishes.
func (s *Server) clientPublished(ctx context.Context, p *request) answer {
	id, f, missing, ok := s.clientOf(p)
	if !ok {
		return missing
	}
	out := []map[string]any{}
	for _, r := range f.published[id] {
		out = append(out, map[string]any{
			"namespace": r.key.Namespace, "group": r.key.Group, "serviceName": r.key.Name,
			"registeredInstance": map[string]any{"ip": r.in.IP, "port": r.in.Port, "cluster": r.in.Cluster},
		})
	}
	return s.jsonAnswer(out)
}

// clientSubscribed serves GET /client/subscribe/list (clientId): the
// services the client subscribes to.
func (s *Server) clientSubscribed(ctx context.Context, p *request) answer {
	id, f, missing, ok := s.clientOf(p)
	if !ok {
		return missing
	}
	out := []map[string]any{}
	for _, r := range f.subscribed[id] {
		out = append(out, map[string]any{
			"namespace": r.key.Namespace, "group": r.key.Group, "serviceName": r.key.Name,
			"subscriberInfo": map[string]any{"app": r.app, "agent": r.agent, "addr": r.ip + ":" + strconv.Itoa(r.port)},
		})
	}
	return s.jsonAnswer(out)
}

// servicePublishers serves GET /client/service/publisher/list: the
// clients publishing instances of a service (ephemeral, default true,
// picks the class; ip and port filter).
func (s *Server) servicePublishers(ctx context.Context, p *request) answer {
	return s.serviceClients(p, func(svc *naming.Service, eph bool, keep func(ip string, port int) bool) []map[string]any {
		out := []map[string]any{}
		for _, in := range svc.Instances {
			if in.Ephemeral == eph && keep(in.IP, in.Port) {
				out = append(out, map[string]any{"clientId": clientID(in.Key().Addr(), in.Ephemeral), "ip": in.IP, "port": in.Port})
			}
		}
		return out
	})
}

// serviceSubscribers serves GET /client/service/subscriber/list: the
// clients subscribed to a service (UDP push subscribers, ephemeral).
func (s *Server) serviceSubscribers(ctx context.Context, p *request) answer {
	return s.serviceClients(p, func(svc *naming.Service, eph bool, keep func(ip string, port int) bool) []map[string]any {
		out := []map[string]any{}
		if !eph {
			return out
		}
		for _, sub := range s.push.Subscribers(svc.Key) {
			ip, port := sub.Addr.Addr().String(), int(sub.Addr.Port())
			if keep(ip, port) {
				out = append(out, map[string]any{"clientId": clientID(sub.Addr.String(), true), "ip": ip, "port": port})
			}
		}
		return out
	})
}

// serviceClients reads the service, ephemeral, ip and port of the
// per-service client views and answers what list finds (404 for a
// missing service).
func (s *Server) serviceClients(p *request, list func(svc *naming.Service, eph bool, keep func(string, int) bool) []map[string]any) answer {
	key, err := p.service()
	if err != nil {
		return bad(err)
	}
	eph, err := p.boolOr(true, "ephemeral")
	if err != nil {
		return bad(err)
	}
	ip := p.get("ip")
	port, err := p.integer("port", 0, 0, 65535)
	if err != nil {
		return bad(err)
	}
	svc, missing, found := s.serviceOr404(key)
	if !found {
		return missing
	}
	return s.jsonAnswer(list(svc, eph, func(i string, pt int) bool {
		return (ip == "" || i == ip) && (port == 0 || pt == port)
	}))
}
