package httpfront

import (
	"io"
	"mime"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// handler is an endpoint given its parsed request.
type handler func(c *gin.Context, p *request)

// h parses the parameters (query and form body, any method) and runs fn.
func (s *Server) h(fn handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := s.parse(c.Request)
		if err != nil {
			s.bad(c, err)
			return
		}
		if !s.authorize(c, p) {
			return
		}
		fn(c, p)
	}
}

// parse reads the query and, for form bodies (or bodies without a content
// type, as some clients send), the body, refusing bodies over MaxBodyBytes.
func (s *Server) parse(r *http.Request) (*request, error) {
	v := values{}
	parseForm(v, r.URL.RawQuery)
	if r.Body != nil && r.Body != http.NoBody {
		max := s.cfg.MaxBodyBytes
		if r.ContentLength > max {
			return nil, naming.Errorf(naming.ErrTooLarge, "request body is larger than %d bytes", max)
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
		if err != nil {
			return nil, invalid("cannot read request body: %v", err)
		}
		if int64(len(body)) > max {
			return nil, naming.Errorf(naming.ErrTooLarge, "request body is larger than %d bytes", max)
		}
		if len(body) > 0 && isForm(r.Header.Get("Content-Type")) {
			parseForm(v, string(body))
		}
	}
	ua := agentOf(r)
	return &request{v: v, ua: ua, agent: parseAgent(ua), source: remoteIP(r)}, nil
}

func isForm(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	return mt == "application/x-www-form-urlencoded"
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// noSuchAPI answers unknown paths and methods: 501 under /nacos/v1/ns as
// Nacos's filter does, 404 or 405 elsewhere.
func (s *Server) noSuchAPI(c *gin.Context) {
	path := c.Request.URL.Path
	switch {
	case strings.HasPrefix(path, nsPrefix+"/"):
		text(c, http.StatusNotImplemented, "no such api:"+c.Request.Method+":"+c.Request.URL.RequestURI())
	case c.Writer.Status() == http.StatusMethodNotAllowed:
		text(c, http.StatusMethodNotAllowed, "method "+c.Request.Method+" not allowed on "+path)
	default:
		text(c, http.StatusNotFound, "no such path: "+path)
	}
}

// status is the server status Nacos reports: the overriddenServerStatus
// switch when set, else UP when the cluster is ready and DOWN otherwise.
func (s *Server) status() (string, error) {
	if o := s.r.Switches().OverriddenServerStatus; o != "" {
		return o, nil
	}
	if err := s.cl.Ready(); err != nil {
		return "DOWN", err
	}
	return "UP", nil
}

// traffic refuses naming requests while the server is not UP, as Nacos's
// traffic filter does: reads pass in READ_ONLY, writes in WRITE_ONLY, and
// the operator switches and metrics always pass.
func (s *Server) traffic(c *gin.Context) {
	st, _ := s.status()
	if st == "UP" {
		return
	}
	get := c.Request.Method == http.MethodGet
	path := c.Request.URL.Path
	switch {
	case st == "READ_ONLY" && get, st == "WRITE_ONLY" && !get:
		return
	case strings.HasSuffix(path, "/switches") || strings.HasSuffix(path, "/metrics"):
		return
	}
	text(c, http.StatusServiceUnavailable, "server is "+st+" now, please try again later!")
	c.Abort()
}

// recovery turns a panic into a 500 and a log line.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if r == http.ErrAbortHandler {
			panic(r)
		}
		s.log.WithFields(logrus.Fields{"panic": r, "path": c.Request.URL.Path, "stack": string(debug.Stack())}).Error("handler panicked")
		if !c.Writer.Written() {
			text(c, http.StatusInternalServerError, "caused: internal error;")
		}
		c.Abort()
	}()
	c.Next()
}

// logRequests writes one debug line per request and reports it to
// Config.Observe.
func (s *Server) logRequests(c *gin.Context) {
	debug := s.log.Logger.IsLevelEnabled(logrus.DebugLevel)
	if !debug && s.cfg.Observe == nil {
		c.Next()
		return
	}
	start := time.Now()
	c.Next()
	if s.cfg.Observe != nil {
		s.cfg.Observe(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start))
	}
	if !debug {
		return
	}
	s.log.WithFields(logrus.Fields{
		"method":  c.Request.Method,
		"path":    c.Request.URL.Path,
		"status":  c.Writer.Status(),
		"latency": time.Since(start).String(),
		"client":  remoteIP(c.Request),
	}).Debug("request")
}
