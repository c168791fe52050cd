package grpcfront

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"sextant/admit"
	"sextant/internal/life"
	"sextant/naming"
)

// Status says whether the node can serve; nil when it can.
// httpfront's Cluster (the node's status) satisfies it.
type Status interface {
	Ready() error
}

// Access checks what a request may do. cmd wires the node's access control
// (the same guard and the same rules as the HTTP front) behind it.
type Access interface {
	// Enabled reports whether requests are checked at all.
	Enabled() bool
	// Allow returns nil when the holder of token may read (write false)
	// or write namespace ns, else the refusal, whose text goes to the
	// client. A refusal wrapping naming.ErrUnavailable is a transient
	// failure, any other a denial.
	Allow(token, ns string, write bool) error
}

// recvWindow is the HTTP/2 flow-control window of every stream and
// connection, in bytes: a message of MaxMessageBytes takes a few window
// updates, acks and requests none.
const recvWindow = 1 << 20

// transportLimit is the largest message gRPC reads for a MaxMessageBytes
// of limit: twice it, and at least 1 MiB more.
func transportLimit(limit int) int { return limit + max(limit, 1<<20) }

// tooLarge answers a message over MaxMessageBytes, nil for one within it.
func (s *Server) tooLarge(p *Payload) *Payload {
	if p.size <= s.cfg.MaxMessageBytes {
		return nil
	}
	return errorPayload(codeTooLarge, fmt.Sprintf("message too large: %d bytes, this member takes at most %d", p.size, s.cfg.MaxMessageBytes), "")
}

// Server is the gRPC front.
type Server struct {
	cfg    Config
	r      naming.Reader
	w      naming.Writer
	st     Status
	access Access
	log    *logrus.Entry
	now    func() time.Time

	ids    connIDs
	load   admit.Shedder
	reqIDs atomic.Uint64
	stats  counters

	cmu   sync.Mutex
	conns map[*conn]struct{} // connections set up
	// draining is set once Close began: ending connections keep their
	// instances, since their clients re-register them elsewhere.
	draining atomic.Bool
	// cutOff is read and written by the detect loop alone (cutoff.go).
	cutOff cutOffState

	table map[string]handler

	subs  *subIndex
	bound *bindings
	refs  *refTimes
	push  *pushQueue

	gs          *grpc.Server
	ln          net.Listener
	mu          sync.Mutex
	life        life.State // guarded by mu
	cancelWatch func()
	stop        chan struct{}
	wg          sync.WaitGroup
}

// New returns a front over r and w; it serves nothing until Start. access
// may be nil (no checks).
func New(cfg Config, r naming.Reader, w naming.Writer, st Status, access Access, log *logrus.Entry) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if r == nil || w == nil || st == nil {
		return nil, errors.New("grpcfront: a reader, a writer and a status are required")
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	s := &Server{cfg: cfg, r: r, w: w, st: st, access: access, log: log.WithField("component", "grpc"),
		now: time.Now, conns: map[*conn]struct{}{}, subs: newSubIndex(), bound: newBindings(),
		refs: newRefTimes(), push: newPushQueue(), stop: make(chan struct{})}
	s.reqIDs.Store(uint64(time.Now().UnixNano()))
	s.table = s.handlers()
	return s, nil
}

// Start listens and serves. ctx bounds only the start itself.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.life.CanStart("grpcfront"); err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("grpc: listen %s: %w", s.cfg.Addr, err)
	}
	opts := []grpc.ServerOption{
		grpc.ForceServerCodec(Codec{}),
		grpc.StatsHandler(statsHandler{s}),
		// gRPC takes somewhat more than the limit, so that a message over
		// it gets our ErrorResponse 413 (tooLarge); only one over this
		// bound too gets gRPC's RESOURCE_EXHAUSTED.
		grpc.MaxRecvMsgSize(transportLimit(s.cfg.MaxMessageBytes)),
		grpc.MaxSendMsgSize(64 << 20),
		// Static windows: without them grpc-go estimates the bandwidth
		// with a ping after received data, a frame each way per push ack.
		grpc.InitialWindowSize(recvWindow),
		grpc.InitialConnWindowSize(recvWindow),
		// No HPACK dynamic table for the headers clients send: it kept
		// about 1.5 KiB of header copies per connection, idle ones
		// included; a request's headers (path, authority, content type,
		// user agent, timeout) then travel literally, about 100 bytes.
		grpc.HeaderTableSize(0),
		// Clients ping every 60 s; dead peers the OS does not report are
		// found by the idle probe (detect.go) and by these pings.
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	}
	if s.cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.cfg.TLS)))
	}
	s.gs = grpc.NewServer(opts...)
	s.gs.RegisterService(&requestDesc, s)
	s.gs.RegisterService(&biStreamDesc, s)
	s.ln = ln
	s.life.Started()
	s.cancelWatch = s.r.Watch(s.changed)
	s.wg.Add(4)
	go func() {
		defer s.wg.Done()
		if err := s.gs.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.log.WithError(err).Error("grpc serve")
		}
	}()
	go s.pushLoop()
	go s.detectLoop()
	go s.renewLoop()
	s.log.WithField("addr", ln.Addr().String()).Info("grpc front started")
	return nil
}

// Addr returns the listen address, nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Close asks every client to move to another member (ConnectResetRequest),
// waits up to DrainTimeout for them to go, then stops. The instances of
// connections that end meanwhile stay: their clients register them again
// where they reconnect. Close is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	first, started := s.life.End()
	s.mu.Unlock()
	if !first || !started {
		return nil
	}
	s.draining.Store(true)
	s.drain()
	s.cancelWatch()
	close(s.stop)
	s.gs.Stop()
	s.wg.Wait()
	return nil
}

// drain sends ConnectResetRequest to every connection and waits until
// they are gone or DrainTimeout passed.
func (s *Server) drain() {
	list := s.setUp()
	if len(list) == 0 {
		return
	}
	s.askToMove(list)
	s.log.WithField("connections", len(list)).Info("asked every gRPC client to move to another member")
	deadline := time.NewTimer(s.cfg.DrainTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for len(s.setUp()) > 0 {
		select {
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

// askToMove sends ConnectResetRequest to each of list: the client
// reconnects to another member of its server list.
func (s *Server) askToMove(list []*conn) {
	for _, c := range list {
		c.out.request(s.serverRequest(typeConnectReset, internalRequest{Module: "internal"}))
	}
}

// setUp returns the connections set up now.
func (s *Server) setUp() []*conn {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// Client is one connected client as operators see it.
type Client struct {
	ConnectionID  string `json:"connectionId"`
	Remote        string `json:"remote"`
	ClientVersion string `json:"clientVersion"`
	App           string `json:"app"`
	Subscriptions int    `json:"subscriptions"`
	Instances     int    `json:"instances"`
	// IdleMillis is how long ago the client last sent anything.
	IdleMillis int64 `json:"idleMillis"`
}

// Clients lists the connections set up, by connection id.
func (s *Server) Clients() []Client {
	now := s.now().UnixNano()
	conns := s.setUp()
	out := make([]Client, 0, len(conns))
	for _, c := range conns {
		c.mu.Lock()
		cl := Client{ConnectionID: c.id, Remote: c.remote, ClientVersion: c.clientVersion, App: c.app,
			Subscriptions: c.subs.len(), Instances: c.insts.len()}
		c.mu.Unlock()
		cl.IdleMillis = max(now-c.lastActive.Load(), 0) / int64(time.Millisecond)
		out = append(out, cl)
	}
	slices.SortFunc(out, func(a, b Client) int { return strings.Compare(a.ConnectionID, b.ConnectionID) })
	return out
}

// Connections returns the number of connections set up.
func (s *Server) Connections() int {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return len(s.conns)
}

// idWidth is the length of every requestId the server sends: fixed, so
// that a push's encoding only changes in those digits (see rendered).
const idWidth = 20

// nextID returns a requestId no other server request of this process has:
// idWidth decimal digits.
func (s *Server) nextID() string {
	var b [idWidth]byte
	v := s.reqIDs.Add(1)
	for i := idWidth - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[:])
}

// serverRequest builds a server-to-client request of the internal module.
func (s *Server) serverRequest(typ string, body internalRequest) *Payload {
	body.RequestID = s.nextID()
	return &Payload{Type: typ, Body: mustJSON(body)}
}
