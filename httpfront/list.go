package httpfront

import (
	"context"
	"net/http"
	"strconv"

	"sextant/httpfront/push"
	"sextant/naming"
)

// listParams are the parameters instance/list reads, each as request.get
// returns it (first value, trimmed).
type listParams struct {
	serviceName, dom, groupName, namespaceID string
	healthyOnly, udpPort                     string
	clusters, clientIP, app, env             string
	// Credentials (auth.go): read only when access control is on.
	accessToken, username, password string
}

func listParamsOf(p *request) listParams {
	return listParams{
		serviceName: p.get("serviceName"), dom: p.get("dom"), groupName: p.get("groupName"),
		namespaceID: p.get("namespaceId"), healthyOnly: p.get("healthyOnly"), udpPort: p.get("udpPort"),
		clusters: p.get("clusters"), clientIP: p.get("clientIP"), app: p.get("app"), env: p.get("env"),
		accessToken: p.get("accessToken"), username: p.get("username"), password: p.get("password"),
	}
}

// listQuery is a checked instance/list request.
type listQuery struct {
	key         naming.ServiceKey
	healthyOnly bool
	udpPort     int
}

// check validates the parameters as request.service, boolOr and integer do.
func (lp *listParams) check() (listQuery, error) {
	var q listQuery
	name := lp.serviceName
	if name == "" {
		name = lp.dom
	}
	if name == "" {
		return q, invalid("Param 'serviceName' is required.")
	}
	q.key = naming.NewServiceKey(lp.namespaceID, lp.groupName, name)
	if err := q.key.Validate(); err != nil {
		return q, err
	}
	if s := lp.healthyOnly; s != "" {
		b, ok := naming.ParseBool(s)
		if !ok {
			return q, invalid("Param '%s' is illegal, it must be true or false: %q", "healthyOnly", s)
		}
		q.healthyOnly = b
	}
	if s := lp.udpPort; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 65535 {
			return q, invalid("Param '%s' is illegal, it must be an integer between %d and %d: %q", "udpPort", 0, 65535, s)
		}
		q.udpPort = n
	}
	return q, nil
}

// listInstances serves GET /nacos/v1/ns/instance/list, the query every
// client polls, and registers UDP push subscribers. A request whose
// parameters nothing has read yet (no access check) and that has no form
// body is read by one scan of the raw query (scanListParams), the
// cheapest way.
func (s *Server) listInstances(_ context.Context, p *request) answer {
	var lp listParams
	if !p.parsed && p.form == "" {
		lp = scanListParams(p.query)
	} else {
		lp = listParamsOf(p)
	}
	q, err := lp.check()
	if err != nil {
		return bad(err)
	}
	body := s.listBodyFor(&q, &lp, p.ua, p.agent, p.source, p.sw)
	return answer{status: http.StatusOK, json: true, body: body.head, tail: s.stamp(nowMillis())}
}

// listBodyFor subscribes the caller for pushes when it asked for them and
// returns the encoded list it gets.
func (s *Server) listBodyFor(q *listQuery, lp *listParams, ua string, agent clientInfo, source string, sw naming.Switches) listBody {
	cacheMillis := sw.DefaultCacheMillis
	if s.subscribe(q, lp, ua, agent, source, sw) {
		cacheMillis = sw.DefaultPushCacheMillis
	}
	svc, _ := s.r.Service(q.key)
	return s.lists.get(svc, listView{
		key: q.key, clusters: lp.clusters, env: lp.env, healthyOnly: q.healthyOnly,
		flavour: agent.flavour(), cacheMillis: cacheMillis,
	})
}

// subscribe subscribes the caller for UDP pushes of the list when it asks
// (udpPort) and its client takes them; it reports whether it did. It runs
// before the service is read, so a change right after the read is pushed.
func (s *Server) subscribe(q *listQuery, lp *listParams, ua string, agent clientInfo, source string, sw naming.Switches) bool {
	if q.udpPort <= 0 || !s.push.Enabled() || !agent.canPush(sw) {
		return false
	}
	_, err := s.push.Subscribe(push.Subscription{
		Service: q.key, Clusters: lp.clusters, ClientIP: lp.clientIP, SourceIP: source,
		UDPPort: q.udpPort, Agent: ua, App: lp.app,
	})
	if err != nil {
		s.log.WithError(err).WithField("service", q.key.String()).Debug("no push for this subscriber")
	}
	return err == nil
}

// renderPush is the push.Render of this front: the list a subscriber would
// poll, with the push cacheMillis.
func (s *Server) renderPush(key naming.ServiceKey, clusters, agent string) []byte {
	svc, _ := s.r.Service(key)
	body := s.lists.get(svc, listView{
		key: key, clusters: clusters, flavour: parseAgent(agent).flavour(),
		cacheMillis: s.r.Switches().DefaultPushCacheMillis,
	})
	return finishList(body.head, nowMillis())
}
