package httpfront

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"sextant/naming"
)

// The gin adapter: gin routes every row of the table (routes.go) to the
// pipeline (pipeline.go) and writes its answer. gin is the router of
// record of the API: Handler serves it, and the listener hands it what
// the table does not hold natively (web rows, unknown paths).

// ginEngine builds the gin router of the table.
func (s *Server) ginEngine(t *table) *gin.Engine {
	e := gin.New()
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = true
	for _, rt := range t.rows {
		e.Handle(rt.method, rt.path, s.ginRoute(rt))
	}
	e.NoRoute(s.ginRoute(&route{fn: s.noSuchAPI(false)}))
	e.NoMethod(s.ginRoute(&route{fn: s.noSuchAPI(true)}))
	return e
}

// ginRoute is the gin handler of a row.
func (s *Server) ginRoute(rt *route) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := s.requests.Get().(*request)
		s.parse(c.Request, p)
		for _, pp := range c.Params {
			p.set(pp.Key, pp.Value)
		}
		fn := rt.fn
		if rt.web != nil {
			fn = func(context.Context, *request) answer { return webAnswer(rt.web, c.Request) }
		}
		s.writeAnswer(c.Writer, s.serve(c.Request.Context(), rt, p, fn))
		p.reset()
		s.requests.Put(p)
	}
}

// webAnswer runs a net/http handler into an answer.
func webAnswer(h http.Handler, r *http.Request) answer {
	w := &bufferedWriter{header: make(http.Header, 4)}
	h.ServeHTTP(w, r)
	return w.answer()
}

// parse reads a net/http request into a blank (or reset) request: the
// query and, for form bodies (or bodies without a content type, as some
// clients send), the body; a body over MaxBodyBytes, or one that cannot
// be read, is kept as p.err (the pipeline answers it after its checks).
func (s *Server) parse(r *http.Request, p *request) {
	p.method, p.uri, p.path, p.query = r.Method, r.URL.RequestURI(), r.URL.Path, r.URL.RawQuery
	if a := r.Header.Get("Authorization"); a != "" {
		p.authorization = a
	}
	if r.Body != nil && r.Body != http.NoBody {
		max := s.cfg.MaxBodyBytes
		if r.ContentLength > max {
			p.err = naming.Errorf(naming.ErrTooLarge, "request body is larger than %d bytes", max)
		} else if body, err := readBody(r.Body, r.ContentLength, max); err != nil {
			p.err = err
		} else if len(body) > 0 && isForm(r.Header.Get("Content-Type")) {
			p.form = body
		}
	}
	p.ua = agentOf(r)
	p.agent, p.source = parseAgent(p.ua), remoteIP(r)
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

// noSuchAPI answers unknown paths (and, with wrongMethod, a known path
// asked with another method): 501 under /nacos/v1/ns as Nacos's filter
// does, 404 or 405 elsewhere.
func (s *Server) noSuchAPI(wrongMethod bool) handler {
	return func(_ context.Context, p *request) answer {
		path, _, _ := strings.Cut(p.uri, "?")
		switch {
		case strings.HasPrefix(path, nsPrefix+"/"):
			return textAnswer(http.StatusNotImplemented, "no such api:"+p.method+":"+p.uri)
		case wrongMethod:
			return textAnswer(http.StatusMethodNotAllowed, "method "+p.method+" not allowed on "+path)
		}
		return textAnswer(http.StatusNotFound, "no such path: "+path)
	}
}

// status is the server status Nacos reports: the overriddenServerStatus
// switch when set, else UP when the cluster is ready and DOWN otherwise.
func (s *Server) status() (string, error) {
	return s.statusWith(s.r.Switches().OverriddenServerStatus)
}

// statusWith is status given the overriddenServerStatus switch.
func (s *Server) statusWith(overridden string) (string, error) {
	if o := overridden; o != "" {
		return o, nil
	}
	if err := s.cl.Ready(); err != nil {
		return "DOWN", err
	}
	return "UP", nil
}
