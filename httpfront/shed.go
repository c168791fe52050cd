package httpfront

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// shed answers 503 at once when Config.MaxInFlight requests are already
// being served, so that a flood costs little and the node recovers as soon
// as it ends. Health checks and metrics are never refused: orchestrators
// must still reach a busy node (peers have their own bound, internal.go).
func (s *Server) shed(c *gin.Context) {
	if exemptFromShedding(c.Request.URL.Path) {
		c.Next()
		return
	}
	counted, ok := s.load.Enter(s.cfg.MaxInFlight)
	defer s.load.Leave(counted)
	if !ok {
		c.Header("Retry-After", "1")
		a := busyAnswer()
		if strings.HasPrefix(c.Request.URL.Path, "/nacos/v2/") {
			a = v2ErrorAnswer(a)
		}
		s.reply(c, a)
		c.Abort()
		return
	}
	c.Next()
}

// busyText is the body of a request refused for load.
const busyText = "server is busy: too many requests in flight, retry later"

func exemptFromShedding(path string) bool {
	return strings.HasPrefix(path, consolePrefix+"/health/") || strings.HasPrefix(path, consolePrefixV2+"/health/") || path == MetricsPath
}

// Shed returns how many requests were refused for being over MaxInFlight.
func (s *Server) Shed() uint64 { return s.load.Shed() }

// InFlight returns the requests being served now (those counted against
// MaxInFlight).
func (s *Server) InFlight() int64 { return s.load.InFlight() }
