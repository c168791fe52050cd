package httpfront

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/valyala/fasthttp"

	"sextant/naming"
)

// The listener is the fasthttp adapter of the route table: it finds a
// request's row (wireRoutes) and runs it through the pipeline
// (pipeline.go), as gin does; what the table does not serve natively (web
// rows: the console's files, metrics, Config.Extra; unknown paths) is
// converted to net/http and served by Handler (netbridge.go). fasthttp
// serves the socket rather than net/http: on this project's hardware
// net/http spent about 50 µs of CPU per keep-alive request (a background
// read, a context, header maps and deadline timers for each), fasthttp
// about 14 µs.

// wireReadBuffer bounds a request's line and headers (Tomcat, under
// Nacos, allows 8 KiB).
const wireReadBuffer = 16 << 10

// newWireServer builds the fasthttp server of Start.
func (s *Server) newWireServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			switch {
			case bytes.HasPrefix(ctx.RequestURI(), internalPath):
				s.wireInternal(ctx)
			case !s.wireServe(ctx):
				s.wireSlow(ctx)
			}
		},
		ErrorHandler:          s.wireError,
		HeaderReceived:        s.wireLimits,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		ReadTimeout:           10 * time.Second,
		IdleTimeout:           90 * time.Second,
		ReadBufferSize:        wireReadBuffer,
		Concurrency:           s.cfg.MaxConns,
		MaxConnsPerIP:         s.cfg.MaxConnsPerIP,
		MaxRequestBodySize:    int(s.cfg.MaxBodyBytes),
		// No route takes multipart bodies: they stay unparsed bytes.
		DisablePreParseMultipartForm: true,
		Logger:                       wireLogger{s.log},
	}
}

// wireLimits raises the body bound for the internal node-to-node paths,
// whose handlers bound their bodies themselves (Distro records of large
// services run to megabytes), once their signature headers pass; every
// other request keeps MaxBodyBytes, checked by fasthttp before the body
// is read.
func (s *Server) wireLimits(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if s.cfg.Internal != nil && bytes.HasPrefix(h.RequestURI(), internalPath) {
		return fasthttp.RequestConfig{MaxRequestBodySize: int(s.wireInternalBound(h))}
	}
	return fasthttp.RequestConfig{}
}

// wireInternalBound is internalBound for a request the listener reads.
func (s *Server) wireInternalBound(h *fasthttp.RequestHeader) int64 {
	return s.internalBound(string(h.Method()), string(h.RequestURI()), func(k string) string { return string(h.Peek(k)) })
}

var internalPath = []byte(InternalPrefix + "/")

// wireLogger sends fasthttp's own messages to the debug log.
type wireLogger struct{ log *logrus.Entry }

func (l wireLogger) Printf(format string, args ...any) { l.log.Debugf(format, args...) }

// wireError answers a request fasthttp could not read: 413 with the
// message parse gives for a body over MaxBodyBytes, 431 for a request
// line and headers over the read buffer, 408 for a client too slow, 400
// for the rest.
func (s *Server) wireError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	status, msg := http.StatusBadRequest, "bad request: "+err.Error()
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status = http.StatusRequestEntityTooLarge
		bound := s.cfg.MaxBodyBytes
		if s.cfg.Internal != nil && bytes.HasPrefix(ctx.Request.Header.RequestURI(), internalPath) {
			bound = s.wireInternalBound(&ctx.Request.Header)
		}
		msg = errorBody(naming.Errorf(naming.ErrTooLarge, "request body is larger than %d bytes", bound), status)
		lingerBeforeClose(ctx.Conn())
	case errors.As(err, &small):
		status, msg = http.StatusRequestHeaderFieldsTooLarge, "request line and headers are larger than 16 KiB"
	case isTimeout(err):
		status, msg = http.StatusRequestTimeout, "request not read in time"
	}
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentType(textType)
	ctx.SetBodyString(msg)
	ctx.SetConnectionClose()
}

// Bounds of the body read and dropped before a 413 closes the connection.
const (
	lingerBytes = 256 << 10
	lingerTime  = 100 * time.Millisecond
)

// lingerBeforeClose reads and drops what the client is still sending of a
// refused body, up to lingerBytes for lingerTime, as net/http does: a
// connection closed with unread data is reset, and a client still writing
// its body would then lose the 413 that says why.
func lingerBeforeClose(c net.Conn) {
	if c == nil || c.SetReadDeadline(time.Now().Add(lingerTime)) != nil {
		return
	}
	_, _ = io.CopyN(io.Discard, c, lingerBytes)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// wireRoutes is the table for the listener: its rows by exact path, and
// the rows of the one path with a parameter
// (/nacos/v2/ns/instance/statuses/:key) under its prefix.
type wireRoutes struct {
	hot    []*route // looked up first, by comparison
	byPath map[string][]*route
	keyed  []*route
}

const keyedPrefix = nsPrefixV2 + "/instance/statuses/"

func newWireRoutes(t *table) wireRoutes {
	w := wireRoutes{byPath: map[string][]*route{}}
	for _, rt := range t.rows {
		switch {
		case rt.web != nil:
			// served through gin (netbridge.go)
		case rt.hot:
			w.hot = append(w.hot, rt)
		case rt.path == keyedPrefix+":key":
			w.keyed = append(w.keyed, rt)
		default:
			w.byPath[rt.path] = append(w.byPath[rt.path], rt)
		}
	}
	return w
}

// find returns the row of method on path, and the key of a keyed path.
func (w *wireRoutes) find(method, path []byte) (rt *route, key string) {
	for _, r := range w.hot {
		if string(path) == r.path && string(method) == r.method {
			return r, ""
		}
	}
	rows, ok := w.byPath[string(path)]
	if !ok && bytes.HasPrefix(path, []byte(keyedPrefix)) {
		if k := path[len(keyedPrefix):]; len(k) > 0 && bytes.IndexByte(k, '/') < 0 && bytes.IndexByte(k, '%') < 0 {
			rows, key = w.keyed, string(k)
		}
	}
	for _, r := range rows {
		if r.method == string(method) {
			return r, key
		}
	}
	return nil, ""
}

// wireServe serves a request of a row of the table through the pipeline
// and returns true, or returns false, having done nothing, when the
// table does not serve it natively.
func (s *Server) wireServe(ctx *fasthttp.RequestCtx) bool {
	rt, key := s.wire.find(ctx.Method(), ctx.URI().PathOriginal())
	if rt == nil {
		return false
	}
	p := s.requests.Get().(*request)
	wireRequest(ctx, p)
	p.method, p.path = rt.method, rt.path
	if key != "" {
		p.path = keyedPrefix + key
		p.set("key", key)
	}
	// Not ctx (a context.Context done at shutdown): a timeout under a
	// parent of a foreign type costs a goroutine per write. ApplyTimeout
	// bounds writes.
	wireWrite(ctx, s.serve(context.Background(), rt, p, rt.fn))
	p.reset()
	s.requests.Put(p) // not on a panic (serve lets http.ErrAbortHandler through): a new one is made
	return true
}

func wireWrite(ctx *fasthttp.RequestCtx, a answer) {
	ctx.SetStatusCode(a.status)
	ctx.Response.Header.SetContentType(a.typ())
	for _, kv := range a.header {
		ctx.Response.Header.Set(kv[0], kv[1])
	}
	if len(a.tail) == 0 {
		ctx.Response.SetBodyRaw(a.body)
		return
	}
	// Copied into fasthttp's pooled buffer: no allocation per list.
	ctx.Response.AppendBody(a.body)
	ctx.Response.AppendBody(a.tail)
}

// wireRequest reads the request into p as parse does. The strings are
// copies: fasthttp reuses its buffers once the request is answered.
func wireRequest(ctx *fasthttp.RequestCtx, p *request) {
	p.query = string(ctx.URI().QueryString())
	if body := ctx.PostBody(); len(body) > 0 && isForm(string(ctx.Request.Header.ContentType())) {
		p.form = string(body)
	}
	if a := ctx.Request.Header.Peek("Authorization"); len(a) > 0 {
		p.authorization = string(a)
	}
	p.ua = wireAgent(ctx)
	p.agent, p.source = parseAgent(p.ua), ctx.RemoteIP().String()
}

// wireAgent is agentOf for a fasthttp request.
func wireAgent(ctx *fasthttp.RequestCtx) string {
	if ua := ctx.Request.Header.UserAgent(); len(ua) > 0 {
		return string(ua)
	}
	return string(ctx.Request.Header.Peek("Client-Version"))
}
