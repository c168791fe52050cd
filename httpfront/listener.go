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

// The listener is served by fasthttp rather than net/http: on this
// project's hardware net/http spent about 50 µs of CPU per keep-alive
// request (a background read, a context, header maps and deadline timers
// for each), fasthttp about 14 µs. Beats, registrations, deregistrations
// and instance lists, the requests clients send by the thousand, are
// answered natively here (wireHot); every other request is converted to
// net/http and served by Handler, gin and all (netbridge.go), so the whole
// API keeps one implementation. A hot request that the native path leaves alone (debug
// logging on, a node not UP, a consistent read) goes the same way.

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
			case !s.wireHot(ctx):
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

// wireHot answers the hot requests natively, as their gin routes would,
// with the same checks in the same order (pipeline.go: recovery, load
// shedding, readiness, access control, Config.Observe; parameter errors;
// the same headers and body), and returns false, having done nothing, for
// every other request, and for a list with form parameters or asking for
// a consistent read, or with debug logging on (gin's route serves them).
func (s *Server) wireHot(ctx *fasthttp.RequestCtx) (handled bool) {
	var route string
	path := ctx.URI().PathOriginal()
	switch m := ctx.Method(); {
	case string(m) == http.MethodGet && string(path) == listRoute:
		route = listRoute
	case string(m) == http.MethodPut && string(path) == beatRoute:
		route = beatRoute
	case (string(m) == http.MethodPost || string(m) == http.MethodDelete) && string(path) == instanceRoute:
		route = instanceRoute
	default:
		return false
	}
	if s.log.Logger.IsLevelEnabled(logrus.DebugLevel) {
		return false
	}
	list := route == listRoute
	if list && (len(ctx.PostBody()) > 0 || s.leaderReads && mayAskConsistent(string(ctx.URI().QueryString()))) {
		return false // form parameters, or a consistent read: gin's route
	}
	sw := s.r.Switches()
	start := time.Now()
	answered := false
	defer func() {
		if p := recover(); p != nil {
			handled = true // served, if only by the 500: never again through gin
			s.panicked(route, p)
			if !answered { // an answer already made stands, as with gin's recovery
				ctx.Response.Reset()
				wireWrite(ctx, panicAnswer())
			}
		}
	}()
	counted, ok := s.load.Enter(s.cfg.MaxInFlight)
	defer s.load.Leave(counted)
	var a answer
	if !ok {
		ctx.Response.Header.Set("Retry-After", "1")
		a = busyAnswer()
	} else if r, refused := s.notServing(string(ctx.Method()), route, sw); refused {
		a = r
	} else if list {
		a = s.wireList(ctx, sw, start.UnixMilli())
	} else {
		a = s.wireWriteRoute(ctx, route, sw)
	}
	wireWrite(ctx, a)
	answered = true
	if s.cfg.Observe != nil {
		s.cfg.Observe(route, string(ctx.Method()), a.status, time.Since(start))
	}
	return true
}

func wireWrite(ctx *fasthttp.RequestCtx, a answer) {
	ctx.SetStatusCode(a.status)
	ctx.Response.Header.SetContentType(a.contentType())
	ctx.Response.SetBodyRaw(a.body)
}

// wireRequest reads the parameters as parse does: the query and, for
// form bodies (or bodies without a content type), the body. The strings
// are copies: fasthttp reuses its buffers once the request is answered.
func wireRequest(ctx *fasthttp.RequestCtx) *request {
	p := &request{}
	p.v = p.buf[:0]
	p.v.add(string(ctx.URI().QueryString()))
	if body := ctx.PostBody(); len(body) > 0 && isForm(string(ctx.Request.Header.ContentType())) {
		p.v.add(string(body))
	}
	p.ua = wireAgent(ctx)
	p.agent, p.source = parseAgent(p.ua), ctx.RemoteIP().String()
	return p
}

// wireAgent is agentOf for a fasthttp request.
func wireAgent(ctx *fasthttp.RequestCtx) string {
	if ua := ctx.Request.Header.UserAgent(); len(ua) > 0 {
		return string(ua)
	}
	return string(ctx.Request.Header.Peek("Client-Version"))
}

// wireWriteRoute answers a write route (beat, register, deregister): access
// control, then the route's answer.
func (s *Server) wireWriteRoute(ctx *fasthttp.RequestCtx, route string, sw naming.Switches) answer {
	p := wireRequest(ctx)
	method := string(ctx.Method())
	if a, ok := s.access(method, route, p, string(ctx.Request.Header.Peek("Authorization"))); !ok {
		return a
	}
	// Not ctx (a context.Context done at shutdown): a timeout under a
	// parent of a foreign type costs a goroutine per write. ApplyTimeout
	// bounds the write.
	bg := context.Background()
	switch {
	case route == beatRoute:
		return s.beatAnswer(bg, p, sw)
	case method == http.MethodPost:
		return s.registerAnswer(bg, p, sw)
	}
	return s.deregisterAnswer(bg, p)
}

// wireList is fastList for a fasthttp request.
func (s *Server) wireList(ctx *fasthttp.RequestCtx, sw naming.Switches, now int64) answer {
	lp := scanListParams(string(ctx.URI().QueryString()))
	body, a, ok := s.listFor(&lp, string(ctx.Request.Header.Peek("Authorization")), wireAgent(ctx), ctx.RemoteIP().String(), sw)
	if !ok {
		return a
	}
	tail := s.stamp(now)
	b := make([]byte, 0, len(body.head)+len(tail))
	b = append(append(b, body.head...), tail...)
	return answer{status: http.StatusOK, json: true, body: b}
}
