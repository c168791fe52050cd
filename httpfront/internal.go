package httpfront

import (
	"net/http"
	"strconv"

	"github.com/valyala/fasthttp"
)

// Node-to-node requests (under /sextant/) are dispatched before anything
// public runs: the listener hands them to Config.Internal as they are, so
// no client-facing check (shedding, readiness, access control, Observe,
// gin's router) can refuse a peer, and none of their cost is paid. They
// have bounds of their own: InternalMaxBodyBytes (checked on the announced
// length before the body is read, listener.go) and InternalMaxInFlight.

// wireInternal serves a node-to-node request from the listener.
func (s *Server) wireInternal(ctx *fasthttp.RequestCtx) {
	if s.cfg.Internal == nil {
		wireWrite(ctx, noInternal(string(ctx.Path())))
		return
	}
	counted, ok := s.peers.Enter(s.cfg.InternalMaxInFlight)
	defer s.peers.Leave(counted)
	if !ok {
		ctx.Response.Header.Set("Retry-After", "1")
		wireWrite(ctx, busyAnswer())
		return
	}
	s.serveNet(ctx, s.cfg.Internal)
}

// serveInternal is wireInternal for Handler, the net/http form of the
// front: the body bound is checked on the announced length first and
// enforced while the handler reads.
func (s *Server) serveInternal(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Internal == nil {
		s.writeAnswer(w, noInternal(r.URL.Path))
		return
	}
	bound := s.internalBound(r.Method, r.URL.RequestURI(), r.Header.Get)
	if r.ContentLength > bound {
		s.writeAnswer(w, answer{status: http.StatusRequestEntityTooLarge, body: []byte("request body is larger than " + strconv.FormatInt(bound, 10) + " bytes")})
		return
	}
	counted, ok := s.peers.Enter(s.cfg.InternalMaxInFlight)
	defer s.peers.Leave(counted)
	if !ok {
		w.Header().Set("Retry-After", "1")
		s.writeAnswer(w, busyAnswer())
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, bound)
	}
	s.cfg.Internal.ServeHTTP(w, r)
}

// internalBound is the body bound of a node-to-node request:
// InternalMaxBodyBytes once its signature headers pass InternalSigned,
// MaxBodyBytes, as for any request, before (and always without
// InternalSigned), so that nobody without the secret gets the larger bound.
func (s *Server) internalBound(method, uri string, header func(string) string) int64 {
	if s.cfg.InternalSigned != nil && s.cfg.InternalSigned(method, uri, header) {
		return s.cfg.InternalMaxBodyBytes
	}
	return s.cfg.MaxBodyBytes
}

func noInternal(path string) answer {
	return answer{status: http.StatusNotFound, body: []byte("no such path: " + path + " (this node serves no node-to-node paths)")}
}
