package dnsfront

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/sirupsen/logrus"

	"sextant/internal/life"
	"sextant/naming"
)

const (
	// udpReadSize is the read buffer for UDP queries: large queries are
	// read whole instead of being cut and answered FORMERR.
	udpReadSize = 4096
	// packBufSize is the size of the pooled buffers replies are packed
	// into; a reply that needs more gets its own.
	packBufSize = 4096
	// listenAttempts bounds the search for a port free on both UDP and TCP
	// when the configured port is 0.
	listenAttempts = 20
	closeTimeout   = 5 * time.Second
)

// Server is the DNS front of one node.
type Server struct {
	cfg   Config
	log   *logrus.Entry
	zone  *zone
	build recordBuilder
	idx   *index
	fwd   *forwarder
	bufs  sync.Pool // *[]byte, buffers replies are packed into
	stop  func()    // cancels the watch on the source
	stats queryStats
	acl   recursionACL // who may recurse (acl.go)
	rrl   *rateLimiter // nil: no response-rate limit (ratelimit.go)
	// pktinfo makes socket loops send each reply from the address its
	// query came to even on a specific address (for tests; a wildcard
	// address always does).
	pktinfo bool
	wire    wireCache // answers prepared in wire form (wirecache.go)

	mu       sync.Mutex
	life     life.State // guarded by mu
	udp, tcp *dns.Server
	// With socket loops (udploop_linux.go), pcs are the UDP sockets they
	// read and udp reads what they leave through a slowConn.
	pcs       []*net.UDPConn
	loops     []*udpLoop
	loopsDone sync.WaitGroup
	udpAddr   string
	tcpAddr   string
}

// New prepares the answers for everything src (*naming.Catalog, or any
// source of services) holds and follows its changes; Resolve works from then on. Start opens the sockets.
func New(cfg Config, src naming.ServiceReader, log *logrus.Entry) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src == nil || log == nil {
		return nil, errors.New("dns front needs a source and a logger")
	}
	cfg.Zone = normalizeZone(cfg.Zone)
	host, _ := splitAddr(cfg.Addr, true)
	s := &Server{
		cfg:   cfg,
		log:   log,
		zone:  newZone(cfg.Zone, cfg.TTL, cfg.NegativeTTL, host, time.Now()),
		build: recordBuilder{zone: cfg.Zone, ttl: seconds(cfg.TTL)},
		fwd:   newForwarder(cfg.Recursors, cfg.RecursorTimeout),
	}
	s.acl, _ = parseACL(cfg.RecursionAllow)         // checked by Validate
	exempt, _ := parseNets("", cfg.RateLimitExempt) // checked by Validate
	s.rrl = newRateLimiter(cfg.RateLimit, cfg.RateLimitTable, exempt, nil)
	s.bufs.New = func() any { b := make([]byte, packBufSize); return &b }
	s.idx = newIndex(src, s.build, func() { s.zone.bump(time.Now()) })
	s.stop = src.Watch(s.idx.update)
	s.idx.load()
	return s, nil
}

// Start binds UDP and TCP on the configured address and returns once both
// listen. The server then answers until Close; ctx bounds only the start.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.life.CanStart("dnsfront"); err != nil {
		return err
	}
	loops, pktinfo := s.loopSockets()
	pcs, ln, err := listen(ctx, s.cfg.Addr, loops)
	if err != nil {
		return fmt.Errorf("dns listen %s: %w", s.cfg.Addr, err)
	}
	closeAll := func() {
		for _, pc := range pcs {
			pc.Close()
		}
		ln.Close()
	}
	var udpConn net.PacketConn = pcs[0]
	var slow *slowConn
	var udpLoops []*udpLoop
	if loops > 0 {
		slow = newSlowConn(pcs[0])
		udpConn = slow
		for _, pc := range pcs {
			l, err := newUDPLoop(s, pc, slow, pktinfo)
			if err != nil {
				closeAll()
				return fmt.Errorf("dns socket loop: %w", err)
			}
			udpLoops = append(udpLoops, l)
		}
	}
	up := make(chan struct{}, 2)
	failed := make(chan error, 2)
	notify := func() { up <- struct{}{} }
	s.udp = &dns.Server{PacketConn: udpConn, Handler: s, UDPSize: udpReadSize, NotifyStartedFunc: notify}
	s.tcp = &dns.Server{Listener: ln, Handler: s, NotifyStartedFunc: notify}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		go func() {
			err := srv.ActivateAndServe()
			if err != nil {
				s.log.WithError(err).Error("dns server stopped")
			}
			failed <- err
		}()
	}
	for n := 0; n < 2; n++ {
		var err error
		select {
		case <-up:
			continue
		case err = <-failed:
			err = fmt.Errorf("dns serve: %w", err)
		case <-ctx.Done():
			err = ctx.Err()
		}
		closeAll()
		if slow != nil {
			slow.Close()
		}
		return err
	}
	s.pcs, s.loops = pcs, udpLoops
	for _, l := range s.loops {
		s.loopsDone.Add(1)
		go func() {
			defer s.loopsDone.Done()
			l.run()
		}()
	}
	s.life.Started()
	s.udpAddr, s.tcpAddr = pcs[0].LocalAddr().String(), ln.Addr().String()
	s.log.WithFields(logrus.Fields{"udp": s.udpAddr, "tcp": s.tcpAddr, "zone": s.cfg.Zone, "udp_loops": len(s.loops)}).Info("dns front listening")
	return nil
}

// loopSockets is the number of sockets served by socket loops, 0 when
// the miekg/dns server reads the one UDP socket itself; pktinfo tells
// whether replies must be sent from the address each query came to (a
// wildcard address, or a host name, which may stand for several).
func (s *Server) loopSockets() (n int, pktinfo bool) {
	if !wireLoopSupported {
		return 0, false
	}
	host, _ := splitAddr(s.cfg.Addr, true)
	ip, err := netip.ParseAddr(host)
	pktinfo = err != nil || ip.IsUnspecified() || s.pktinfo
	if s.cfg.UDPSockets > 0 {
		return s.cfg.UDPSockets, pktinfo
	}
	return min(runtime.GOMAXPROCS(0), maxUDPSockets), pktinfo
}

// listen binds UDP and TCP to addr; for port 0 it finds a port that is free
// for both. With loops > 0 it binds that many UDP sockets with
// SO_REUSEPORT.
func listen(ctx context.Context, addr string, loops int) ([]*net.UDPConn, net.Listener, error) {
	host, port, _ := net.SplitHostPort(addr)
	var lc net.ListenConfig
	if loops > 0 {
		lc.Control = reusePort
	}
	var lastErr error
	for i := 0; i < listenAttempts; i++ {
		pc, err := lc.ListenPacket(ctx, "udp", addr)
		if err != nil {
			return nil, nil, err
		}
		bound := net.JoinHostPort(host, strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port))
		ln, err := net.Listen("tcp", bound)
		if err != nil {
			pc.Close()
			if port != "0" {
				return nil, nil, err
			}
			lastErr = err
			continue
		}
		pcs := []*net.UDPConn{pc.(*net.UDPConn)}
		for len(pcs) < loops {
			more, err := lc.ListenPacket(ctx, "udp", bound)
			if err != nil {
				for _, c := range pcs {
					c.Close()
				}
				ln.Close()
				return nil, nil, err
			}
			pcs = append(pcs, more.(*net.UDPConn))
		}
		return pcs, ln, nil
	}
	return nil, nil, lastErr
}

// UDPAddr returns the bound UDP address ("" before Start).
func (s *Server) UDPAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.udpAddr
}

// TCPAddr returns the bound TCP address ("" before Start).
func (s *Server) TCPAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcpAddr
}

// Close stops both servers and the watch on the source. It is safe to call
// more than once, and before Start.
func (s *Server) Close() error {
	s.mu.Lock()
	first, started := s.life.End()
	s.mu.Unlock()
	if !first {
		return nil
	}
	s.stop()
	if !started {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	err := errors.Join(s.udp.ShutdownContext(ctx), s.tcp.ShutdownContext(ctx))
	if len(s.loops) > 0 {
		for _, pc := range s.pcs {
			pc.Close()
		}
		s.loopsDone.Wait()
	}
	s.log.Info("dns front stopped")
	return err
}
