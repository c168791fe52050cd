package httpfront

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"sextant/naming"
)

// leaderReads is implemented by clusters whose CP data has a leader: reads
// with consistent=true are served by the leader after it confirms its
// leadership and has applied everything committed before the request
// (ReadBarrier; no log write).
type leaderReads interface {
	IsLeader() bool
	Leader() string
	ReadBarrier(ctx context.Context) error
}

// consistentRead serves GET requests that carry consistent=true: on the
// leader it waits for the read barrier; on a follower it redirects (307) to
// the same URL on the leader, with this server's scheme (members share
// their TLS setup), so `curl -L` follows it. Without the
// parameter, reads are local (stale by at most the apply lag). A standalone
// node is always consistent.
func (s *Server) consistentRead(c *gin.Context) {
	if c.Request.Method != http.MethodGet || !s.leaderReads {
		c.Next()
		return
	}
	lr := s.cl.(leaderReads)
	if !wantsConsistent(c.Request) {
		c.Next()
		return
	}
	if !lr.IsLeader() {
		leader := lr.Leader()
		if leader == "" {
			s.fail(c, naming.Errorf(naming.ErrUnavailable, "no raft leader: a consistent read cannot be served now, retry"), http.StatusNotFound)
			c.Abort()
			return
		}
		scheme := "http://"
		if s.cfg.TLS != nil {
			scheme = "https://"
		}
		c.Redirect(http.StatusTemporaryRedirect, scheme+leader+c.Request.URL.RequestURI())
		c.Abort()
		return
	}
	if err := lr.ReadBarrier(c.Request.Context()); err != nil {
		s.fail(c, err, http.StatusNotFound)
		c.Abort()
		return
	}
	c.Next()
}

func wantsConsistent(r *http.Request) bool {
	v := strings.ToLower(r.URL.Query().Get("consistent"))
	return v == "true" || v == "1" || v == "yes"
}
