package httpfront

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"sextant/httpfront/push"
	"sextant/naming"
)

// listInstances serves GET /nacos/v1/ns/instance/list, the query every
// client polls, and registers UDP push subscribers.
func (s *Server) listInstances(c *gin.Context, p *request) {
	key, err := p.service()
	if err != nil {
		s.bad(c, err)
		return
	}
	healthyOnly, err := p.boolOr(false, "healthyOnly")
	if err != nil {
		s.bad(c, err)
		return
	}
	udpPort, err := p.integer("udpPort", 0, 0, 65535)
	if err != nil {
		s.bad(c, err)
		return
	}
	clusters := p.get("clusters")
	sw := s.r.Switches()
	cacheMillis := sw.DefaultCacheMillis
	if udpPort > 0 && s.push.Enabled() && p.agent.canPush(sw) {
		// Subscribe before reading the service, so a change right after
		// this read is pushed.
		_, err := s.push.Subscribe(push.Subscription{
			Service: key, Clusters: clusters, ClientIP: p.get("clientIP"), SourceIP: p.source,
			UDPPort: udpPort, Agent: p.ua, App: p.get("app"),
		})
		if err == nil {
			cacheMillis = sw.DefaultPushCacheMillis
		} else {
			s.log.WithError(err).WithField("service", key.String()).Debug("no push for this subscriber")
		}
	}
	svc, _ := s.r.Service(key)
	head := s.lists.head(svc, listView{
		key: key, clusters: clusters, env: p.get("env"), healthyOnly: healthyOnly,
		flavour: p.agent.flavour(), cacheMillis: cacheMillis,
	})
	var num [20]byte
	ts := strconv.AppendInt(num[:0], nowMillis(), 10)
	h := c.Writer.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(head)+len(ts)+1))
	c.Status(http.StatusOK)
	c.Writer.Write(head)
	c.Writer.Write(ts)
	c.Writer.Write(closeBrace)
}

var closeBrace = []byte{'}'}

// renderPush is the push.Render of this front: the list a subscriber would
// poll, with the push cacheMillis.
func (s *Server) renderPush(key naming.ServiceKey, clusters, agent string) []byte {
	svc, _ := s.r.Service(key)
	head := s.lists.head(svc, listView{
		key: key, clusters: clusters, flavour: parseAgent(agent).flavour(),
		cacheMillis: s.r.Switches().DefaultPushCacheMillis,
	})
	return finishList(head, nowMillis())
}
