package httpfront

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"
	"github.com/valyala/fasthttp"

	"sextant/admit"
	"sextant/httpfront/push"
	"sextant/internal/life"
	"sextant/naming"
)

// Cluster is what the front needs to know of the cluster.
type Cluster interface {
	// Members is this node's view of the cluster, Self marked.
	Members() []naming.Member
	// Ready is nil when the node can serve. While it returns an error,
	// readiness answers 503 with its text, metrics report DOWN and naming
	// requests other than the operator switches and metrics answer 503. It
	// is called for every naming request, so it must be cheap.
	Ready() error
	// Leader is the HTTP address of the CP leader, "" if none.
	Leader() string
	// Owner is the member responsible for a service (Distro's owner),
	// "" when this node answers for every service (a single node).
	Owner(key naming.ServiceKey) string
	// Reads serves consistent reads (consistent=true): the CP leader's
	// read path; nil when every local read is consistent (a single
	// node).
	Reads() LeaderReads
}

// LeaderReads is the read path of a cluster whose CP data has a leader:
// reads with consistent=true are served by the leader after it confirms
// its leadership and has applied everything committed before the request
// (ReadBarrier; no log write).
type LeaderReads interface {
	IsLeader() bool
	Leader() string
	ReadBarrier(ctx context.Context) error
}

// Server is the Nacos-compatible HTTP front.
type Server struct {
	cfg   Config
	r     naming.Reader
	w     Writer
	cl    Cluster
	log   *logrus.Entry
	lists *listCache
	push  *push.Pusher
	gin   *gin.Engine
	// wire is the table as the listener finds its rows.
	wire wireRoutes
	// requests are the listener's requests, reused: nothing keeps a
	// request once it is answered (its strings are copies, kept by
	// whoever needs them).
	requests sync.Pool
	// handler is Handler.
	handler http.Handler
	// reads serves consistent reads; nil when every read is consistent.
	reads LeaderReads
	// jsonType and textType are Content-Type values (shared, never
	// modified).
	jsonType, textType []string
	// tail is the end of the lists answered in the last millisecond.
	tail atomic.Pointer[listTail]
	// checks is the CheckLog GET /instance reads (SetCheckLog); may be nil.
	checks atomic.Pointer[CheckLog]
	// load counts requests in flight for MaxInFlight (shed.go).
	load admit.Shedder
	// peers counts internal requests in flight for InternalMaxInFlight.
	peers admit.Shedder

	mu     sync.Mutex
	ln     net.Listener
	srv    *fasthttp.Server
	served chan struct{}
	life   life.State // guarded by mu
}

// New builds the front; it listens only after Start.
func New(cfg Config, r naming.Reader, w Writer, cl Cluster, log *logrus.Entry) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if r == nil || w == nil || cl == nil {
		return nil, errors.New("httpfront needs a reader, a writer and a cluster")
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	s := &Server{
		cfg:   cfg,
		r:     r,
		w:     w,
		cl:    cl,
		log:   log.WithField("component", "httpfront"),
		lists: newListCache(cfg.ListCacheSize, cfg.ListCacheBytes),

		jsonType: []string{jsonType},
		textType: []string{textType},
	}
	p, err := push.New(cfg.Push, r, s.renderPush, log)
	if err != nil {
		return nil, err
	}
	s.push = p
	s.reads = cl.Reads()
	t := s.routes()
	s.gin = s.ginEngine(t)
	s.wire = newWireRoutes(t)
	s.requests.New = func() any { return new(request) }
	s.handler = http.HandlerFunc(s.serveHTTP)
	return s, nil
}

// Handler returns the HTTP handler, usable without Start (for tests or an
// outer server): gin serving the route table through the same pipeline as
// the listener (pipeline.go), and the node-to-node paths as the listener
// serves them (internal.go). Pushes are only sent after Start.
func (s *Server) Handler() http.Handler { return s.handler }

// serveHTTP is Handler.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, InternalPrefix+"/") {
		s.serveInternal(w, r)
		return
	}
	s.gin.ServeHTTP(w, r)
}

// Start listens on Config.Addr, starts the UDP pusher and serves in the
// background. It returns once listening; ctx bounds only the start.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.life.CanStart("httpfront"); err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("httpfront: listen %s: %w", s.cfg.Addr, err)
	}
	if err := s.push.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	s.srv = s.newWireServer()
	serveLn := ln
	if s.cfg.TLS != nil {
		serveLn = tls.NewListener(ln, s.cfg.TLS.Clone())
	}
	s.ln = ln
	s.served = make(chan struct{})
	s.life.Started()
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(serveLn); err != nil {
			s.log.WithError(err).Error("http server stopped")
		}
	}()
	s.log.WithField("addr", ln.Addr().String()).Info("http front listening")
	return nil
}

// Addr returns the address listened on (the configured one before Start).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln.Addr().String()
	}
	return s.cfg.Addr
}

// Close shuts the server down, waiting up to ShutdownTimeout for requests
// in flight, then closes the pusher. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	first, started := s.life.End()
	s.mu.Unlock()
	if !first {
		return nil
	}
	var errs []error
	if started {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		if err := s.srv.ShutdownWithContext(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			errs = append(errs, err)
		}
		cancel()
		// Shutdown knows the listener only once Serve has begun: closing
		// it here also ends a Serve that had not yet begun.
		s.ln.Close()
		<-s.served
	}
	errs = append(errs, s.push.Close())
	return errors.Join(errs...)
}

// write is the handler of a route that applies one op: read builds the
// op from the request (an error answers 400), the writer applies it
// ("ok", or 400 with the error).
func (s *Server) write(read func(p *request) (naming.Op, error)) handler {
	return func(ctx context.Context, p *request) answer {
		op, err := read(p)
		if err == nil {
			err = s.applyIn(ctx, op)
		}
		if err != nil {
			return bad(err)
		}
		return okAnswer()
	}
}

// applyIn hands op to the writer with the configured time bound.
func (s *Server) applyIn(ctx context.Context, op naming.Op) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
	defer cancel()
	return s.w.Apply(ctx, op)
}
