package httpfront

import (
	"context"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// serve runs a request of route rt through every check, in this order,
// and returns its answer: recover → shed → readiness → consistent read →
// access → handler (fn, normally rt.fn) → observe. Both adapters (gin in
// ginadapter.go, the listener in listener.go) call it and only it; a v2
// route's answer, refusals included, is put in the 2.x envelope here.
func (s *Server) serve(ctx context.Context, rt *route, p *request, fn handler) (a answer) {
	logDebug := s.log.Logger.IsLevelEnabled(logrus.DebugLevel)
	var start time.Time
	if logDebug || s.cfg.Observe != nil {
		start = time.Now()
	}
	a, handled := s.check(ctx, rt, p, fn)
	if rt.v2 != nil && !(handled && rt.v2.raw) {
		a = s.v2Envelope(rt.v2, p, a)
	}
	if s.cfg.Observe != nil || logDebug {
		s.observe(rt, p, a, start, logDebug)
	}
	return a
}

// observe reports a served request to Config.Observe (and the debug
// log). A panic there is logged; the answer made stands.
func (s *Server) observe(rt *route, p *request, a answer, start time.Time, logDebug bool) {
	defer func() {
		if v := recover(); v != nil {
			s.panicked(rt.path, v)
		}
	}()
	if s.cfg.Observe != nil {
		s.cfg.Observe(rt.path, p.method, a.status, time.Since(start))
	}
	if logDebug {
		s.log.WithFields(logrus.Fields{"method": p.method, "path": rt.path, "status": a.status,
			"latency": time.Since(start).String(), "client": p.source}).Debug("request")
	}
}

// check is serve's checks and handler, recovering a panic (500);
// handled is true when the answer is the handler's.
func (s *Server) check(ctx context.Context, rt *route, p *request, fn handler) (a answer, handled bool) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.panicked(rt.path, v)
			a, handled = panicAnswer(), false
		}
	}()
	if !rt.noShed {
		counted, ok := s.load.Enter(s.cfg.MaxInFlight)
		defer s.load.Leave(counted)
		if !ok {
			return busyAnswer(), false
		}
	}
	if rt.naming {
		if sw := s.r.Switches(); sw != p.sw {
			// Written only when changed: a reused request mostly holds
			// them already, and each pointer written into it costs a
			// write barrier while the collector marks.
			p.sw = sw
		}
		if a, refused := s.notServing(p.method, rt.path, p.sw.OverriddenServerStatus); refused {
			return a, false
		}
		if a, refused := s.consistentRead(ctx, p); refused {
			return a, false
		}
	}
	if p.err != nil {
		return bad(p.err), false
	}
	if a, ok := s.access(rt, p); !ok {
		return a, false
	}
	a = fn(ctx, p)
	if a.status >= 500 {
		s.log.WithField("path", rt.path).WithField("answer", string(a.whole())).Warn("request failed")
	}
	return a, true
}

// panicked logs a panic recovered while serving path.
func (s *Server) panicked(path string, p any) {
	s.log.WithFields(logrus.Fields{"panic": p, "path": path, "stack": string(debug.Stack())}).Error("handler panicked")
}

// notServing is the readiness check of naming requests, as Nacos's
// traffic filter: while the server is not UP they are refused with 503,
// except that reads pass in READ_ONLY, writes in WRITE_ONLY, and the
// operator switches and metrics always. refused is false when the
// request may go on.
func (s *Server) notServing(method, path, overridden string) (a answer, refused bool) {
	st, _ := s.statusWith(overridden)
	if st == "UP" {
		return answer{}, false
	}
	get := method == http.MethodGet
	switch {
	case st == "READ_ONLY" && get, st == "WRITE_ONLY" && !get:
		return answer{}, false
	case strings.HasSuffix(path, "/switches") || strings.HasSuffix(path, "/metrics"):
		return answer{}, false
	}
	return answer{status: http.StatusServiceUnavailable, body: []byte("server is " + st + " now, please try again later!")}, true
}

// consistentRead serves GET requests that carry consistent=true (in the
// query): on the leader it waits for the read barrier; on a follower it
// redirects (307) to the same URL on the leader, with this server's
// scheme (members share their TLS setup), so `curl -L` follows it.
// Without the parameter, reads are local (stale by at most the apply
// lag). A cluster without consistent reads (a single node) is always
// consistent.
func (s *Server) consistentRead(ctx context.Context, p *request) (a answer, refused bool) {
	lr := s.reads
	if p.method != http.MethodGet || lr == nil || !mayAskConsistent(p.query) {
		return answer{}, false
	}
	q, _ := url.ParseQuery(p.query)
	if v := strings.ToLower(q.Get("consistent")); v != "true" && v != "1" && v != "yes" {
		return answer{}, false
	}
	if !lr.IsLeader() {
		leader := lr.Leader()
		if leader == "" {
			return fail(naming.Errorf(naming.ErrUnavailable, "no raft leader: a consistent read cannot be served now, retry"), http.StatusNotFound), true
		}
		scheme := "http://"
		if s.cfg.TLS != nil {
			scheme = "https://"
		}
		return answer{status: http.StatusTemporaryRedirect}.with("Location", scheme+leader+p.requestURI()), true
	}
	if err := lr.ReadBarrier(ctx); err != nil {
		return fail(err, http.StatusNotFound), true
	}
	return answer{}, false
}
