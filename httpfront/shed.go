package httpfront

import (
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/gin-gonic/gin"
)

// shedder counts the requests in flight and refuses those over the bound.
type shedder struct {
	inflight atomic.Int64
	shed     atomic.Uint64
}

// shed answers 503 at once when Config.MaxInFlight requests are already
// being served, so that a flood costs little and the node recovers as soon
// as it ends. Health checks, metrics and the internal endpoints are never
// refused: orchestrators and peers must still reach a busy node.
func (s *Server) shed(c *gin.Context) {
	max := int64(s.cfg.MaxInFlight)
	if max <= 0 || exemptFromShedding(c.Request.URL.Path) {
		c.Next()
		return
	}
	n := s.load.inflight.Add(1)
	defer s.load.inflight.Add(-1)
	if n > max {
		s.load.shed.Add(1)
		c.Header("Retry-After", "1")
		text(c, http.StatusServiceUnavailable, busyText)
		c.Abort()
		return
	}
	c.Next()
}

// busyText is the body of a request refused for load.
const busyText = "server is busy: too many requests in flight, retry later"

func exemptFromShedding(path string) bool {
	return strings.HasPrefix(path, consolePrefix+"/health/") ||
		strings.HasPrefix(path, InternalPrefix+"/") || path == MetricsPath
}

// Shed returns how many requests were refused for being over MaxInFlight.
func (s *Server) Shed() uint64 { return s.load.shed.Load() }

// InFlight returns the requests being served now (those counted against
// MaxInFlight).
func (s *Server) InFlight() int64 { return s.load.inflight.Load() }
