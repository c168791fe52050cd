package httpfront

import (
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// handler is an endpoint given its parsed request.
type handler func(c *gin.Context, p *request)

// h parses the parameters (query and form body, any method) and runs fn.
// A path parameter (v2's /instance/statuses/:key) replaces a query or form
// parameter of its name before anything reads them, so the access check
// and the handler judge the very same value.
func (s *Server) h(fn handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := s.parse(c.Request)
		if err != nil {
			s.bad(c, err)
			return
		}
		for _, pp := range c.Params {
			p.set(pp.Key, pp.Value)
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
	p := &request{}
	p.v = p.buf[:0]
	p.v.add(r.URL.RawQuery)
	if r.Body != nil && r.Body != http.NoBody {
		max := s.cfg.MaxBodyBytes
		if r.ContentLength > max {
			return nil, naming.Errorf(naming.ErrTooLarge, "request body is larger than %d bytes", max)
		}
		body, err := readBody(r.Body, r.ContentLength, max)
		if err != nil {
			return nil, err
		}
		if len(body) > 0 && isForm(r.Header.Get("Content-Type")) {
			p.v.add(body)
		}
	}
	p.ua = agentOf(r)
	p.agent, p.source = parseAgent(p.ua), remoteIP(r)
	return p, nil
}

// readBody reads a body of at most max bytes; n is its announced length
// (-1: unknown).
func readBody(rd io.Reader, n, max int64) (string, error) {
	var b []byte
	var err error
	if n >= 0 && n <= max {
		// Read one byte more than announced, to notice a body that is not
		// its announced size.
		b = make([]byte, n+1)
		var k int
		k, err = io.ReadFull(rd, b)
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			err = nil
		}
		b = b[:k]
		if err == nil && int64(k) > n {
			// More than announced: read the rest as an unknown length.
			var rest []byte
			rest, err = io.ReadAll(io.LimitReader(rd, max+1-int64(k)))
			b = append(b, rest...)
		}
	} else {
		b, err = io.ReadAll(io.LimitReader(rd, max+1))
	}
	if err != nil {
		return "", invalid("cannot read request body: %v", err)
	}
	if int64(len(b)) > max {
		return "", naming.Errorf(naming.ErrTooLarge, "request body is larger than %d bytes", max)
	}
	return string(b), nil
}

// isForm reports whether a Content-Type is a form body: its media type,
// lowercased, is application/x-www-form-urlencoded (its parameters are not
// looked at).
func isForm(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	if isASCII(mt) {
		return strings.EqualFold(mt, formType)
	}
	return strings.ToLower(mt) == formType
}

const formType = "application/x-www-form-urlencoded"

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
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
func (s *Server) status() (string, error) { return s.statusWith(s.r.Switches()) }

// statusWith is status given the switches.
func (s *Server) statusWith(sw naming.Switches) (string, error) {
	if o := sw.OverriddenServerStatus; o != "" {
		return o, nil
	}
	if err := s.cl.Ready(); err != nil {
		return "DOWN", err
	}
	return "UP", nil
}

// traffic is the readiness check (notServing) of the naming groups.
func (s *Server) traffic(c *gin.Context) {
	if a, refused := s.notServing(c.Request.Method, c.Request.URL.Path, s.r.Switches()); refused {
		s.reply(c, a)
		c.Abort()
	}
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
		s.panicked(c.Request.URL.Path, r)
		if !c.Writer.Written() {
			s.reply(c, panicAnswer())
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
