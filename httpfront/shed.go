package httpfront

import (
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
// as it ends. Health checks and metrics are never refused: orchestrators
// must still reach a busy node (peers have their own bound, internal.go).
func (s *Server) shed(c *gin.Context) {
	if exemptFromShedding(c.Request.URL.Path) {
		c.Next()
		return
	}
	counted, ok := s.load.enter(s.cfg.MaxInFlight)
	defer s.load.leave(counted)
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

// enter counts a request in flight against max (0: no bound, nothing
// counted). ok is false for a request over the bound: counted as shed, it
// must be answered busyAnswer with Retry-After. Every enter is followed
// by leave(counted) once the request is answered.
func (l *shedder) enter(max int) (counted, ok bool) {
	if max <= 0 {
		return false, true
	}
	if l.inflight.Add(1) > int64(max) {
		l.shed.Add(1)
		return true, false
	}
	return true, true
}

// leave ends what enter counted.
func (l *shedder) leave(counted bool) {
	if counted {
		l.inflight.Add(-1)
	}
}

// busyText is the body of a request refused for load.
const busyText = "server is busy: too many requests in flight, retry later"

func exemptFromShedding(path string) bool {
	return strings.HasPrefix(path, consolePrefix+"/health/") || strings.HasPrefix(path, consolePrefixV2+"/health/") || path == MetricsPath
}

// Shed returns how many requests were refused for being over MaxInFlight.
func (s *Server) Shed() uint64 { return s.load.shed.Load() }

// InFlight returns the requests being served now (those counted against
// MaxInFlight).
func (s *Server) InFlight() int64 { return s.load.inflight.Load() }
