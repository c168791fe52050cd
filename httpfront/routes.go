package httpfront

import (
	"github.com/gin-gonic/gin"
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

// routes registers every endpoint; doc.go lists them with their behaviour.
func (s *Server) routes() *gin.Engine {
	e := gin.New()
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = true
	e.Use(s.recovery, s.logRequests, s.shed)
	e.NoRoute(s.noSuchAPI)
	e.NoMethod(s.noSuchAPI)
	if s.cfg.Metrics != nil {
		e.GET(MetricsPath, gin.WrapH(s.cfg.Metrics))
	}
	for path, h := range s.cfg.Extra {
		e.GET(path, gin.WrapH(h))
	}

	ns := e.Group(nsPrefix, s.traffic, s.consistentRead)
	ns.POST("/instance", s.h(s.registerInstance))
	ns.DELETE("/instance", s.h(s.deregisterInstance))
	ns.PUT("/instance", s.h(s.updateInstance))
	ns.PATCH("/instance", s.h(s.patchInstance))
	ns.GET("/instance", s.h(s.instanceDetail))
	ns.GET("/instance/list", s.h(s.listInstances))
	ns.PUT("/instance/beat", s.h(s.beat))
	ns.Any("/instance/statuses", s.h(s.instanceStatuses))
	ns.PUT("/instance/metadata/batch", s.h(s.batchMetadata(false)))
	ns.DELETE("/instance/metadata/batch", s.h(s.batchMetadata(true)))

	ns.POST("/service", s.h(s.createService))
	ns.DELETE("/service", s.h(s.deleteService))
	ns.PUT("/service", s.h(s.updateService))
	ns.GET("/service", s.h(s.getService))
	ns.GET("/service/list", s.h(s.listServices))
	ns.Any("/service/names", s.h(s.serviceNames))
	ns.GET("/service/subscribers", s.h(s.subscribers))
	ns.GET("/service/selector/types", s.h(s.selectorTypes))

	ns.PUT("/cluster", s.h(s.updateCluster))

	for _, base := range []string{"/operator", "/ops"} {
		op := ns.Group(base)
		op.GET("/switches", s.h(s.getSwitches))
		op.PUT("/switches", s.h(s.setSwitch))
		op.GET("/metrics", s.h(s.metrics))
		op.GET("/servers", s.h(s.servers))
		op.Any("/push/state", s.h(s.pushState))
		op.GET("/distro/server", s.h(s.distroServer))
	}
	ns.GET("/raft/leader", s.h(s.raftLeader))

	ns.PUT("/health", s.h(s.setHealth))
	ns.PUT("/health/instance", s.h(s.setHealth))
	ns.Any("/health/server", s.h(s.healthServer))
	ns.GET("/health/checkers", s.h(s.healthCheckers))

	ns.GET("/catalog/services", s.h(s.catalogServices))
	ns.GET("/catalog/service", s.h(s.catalogService))
	ns.Any("/catalog/instances", s.h(s.catalogInstances))

	core := e.Group(corePrefix)
	core.GET("/cluster/nodes", s.h(s.coreNodes))
	core.GET("/cluster/self", s.h(s.coreSelf))
	core.GET("/cluster/nodes/self", s.h(s.coreSelf)) // Sextant's older path
	core.GET("/cluster/simple/nodes", s.h(s.coreSimpleNodes))
	core.GET("/cluster/health", s.h(s.coreHealth))

	con := e.Group(consolePrefix)
	con.GET("/namespaces", s.h(s.getNamespaces))
	con.POST("/namespaces", s.h(s.createNamespace))
	con.PUT("/namespaces", s.h(s.updateNamespace))
	con.DELETE("/namespaces", s.h(s.deleteNamespace))
	con.GET("/health/readiness", s.readiness)
	con.GET("/health/liveness", s.liveness)
	con.GET("/server/state", s.h(s.serverState))
	s.authRoutes(e)
	s.consoleRoutes(e)
	s.v2Routes(e)
	return e
}
