package raftcp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// The Raft port speaks hashicorp/raft's msgpack RPCs, which decode into
// fixed message types only; authStream adds that only members may speak
// it at all, and that a flood of connections cannot keep members out.
//
// Admission, before a byte is read: a connection from an address that is
// not a member's (sources.go) is closed at once. Every other one gets a
// handshake slot; a source holds at most perSourceHandshakes of them and
// all sources together maxHandshakes. A new connection over either bound
// takes the slot of the oldest handshake (of its own source, else of the
// source holding the most): a member answers its challenge within a round
// trip, so what is oldest is what does not answer, and a flood, even from
// a member's own address, cannot hold the slots a member's dial needs.
//
// The handshake is mutual, with the cluster secret: the listener sends a
// magic string and a fresh nonce nL; the dialer answers
// HMAC(secret, "dial" nL nD) and its own fresh nonce nD; the listener
// answers HMAC(secret, "listen" nL nD). Each side drops a connection whose
// answer is wrong or late (handshakeTimeout) before Raft reads a byte of
// it, and nonces are never reused, so a recorded answer cannot be
// replayed, and a node never sends Raft traffic to an impostor. With TLS
// configured the connection is TLS first, mutual (each side checks the
// other's certificate against the cluster's CA), and the challenge runs
// inside it, so Raft traffic is neither read nor altered on the way.
const (
	handshakeMagic   = "sextant-raft-2\n"
	nonceLen         = 32
	handshakeTimeout = 3 * time.Second
	// maxHandshakes bounds the handshakes in progress, perSourceHandshakes
	// those from one address.
	maxHandshakes       = 64
	perSourceHandshakes = 8
)

var errStreamClosed = errors.New("raft stream layer closed")

// authStream is a raft.StreamLayer over TCP whose connections are
// authenticated with the cluster secret.
type authStream struct {
	ln      net.Listener
	adv     net.Addr
	secret  []byte
	sources *sources // nil: any source (tests of the handshake alone)
	// tlsServer and tlsClient, when set, wrap connections in mutual TLS
	// before the challenge.
	tlsServer, tlsClient *tls.Config

	mu      sync.Mutex
	pending map[string][]*handshake // by source IP, oldest first
	total   int

	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

// handshake is a connection whose challenge is in progress.
type handshake struct {
	conn    net.Conn
	source  string
	evicted bool
}

var _ raft.StreamLayer = (*authStream)(nil)

// newAuthStream serves authenticated Raft connections on ln, advertising
// adv, to the sources src admits (any, when src is nil). Set tlsServer and
// tlsClient before the first connection, if at all (newTLSAuthStream).
func newAuthStream(ln net.Listener, adv net.Addr, secret string, src *sources) *authStream {
	return newTLSAuthStream(ln, adv, secret, src, nil, nil)
}

// newTLSAuthStream is newAuthStream with mutual TLS when both configs are
// set.
func newTLSAuthStream(ln net.Listener, adv net.Addr, secret string, src *sources, server, client *tls.Config) *authStream {
	if server == nil || client == nil {
		server, client = nil, nil
	}
	s := &authStream{ln: ln, adv: adv, secret: []byte(secret), sources: src, tlsServer: server, tlsClient: client,
		pending: map[string][]*handshake{}, conns: make(chan net.Conn), done: make(chan struct{})}
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

func (s *authStream) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			time.Sleep(10 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		ip := sourceIP(c.RemoteAddr())
		if s.sources != nil && !s.sources.admits(ip) {
			c.Close()
			continue
		}
		h := s.admit(c, ip.String())
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c, err := s.secure(c)
			if err == nil {
				err = s.challenge(c)
			}
			if !s.finish(h) || err != nil {
				c.Close()
				return
			}
			select {
			case s.conns <- c:
			case <-s.done:
				c.Close()
			}
		}()
	}
}

// admit gives c a handshake slot, taking one from the oldest handshake
// when its source or all sources are at their bound.
func (s *authStream) admit(c net.Conn, source string) *handshake {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending[source]) >= perSourceHandshakes {
		s.evictLocked(source)
	}
	if s.total >= maxHandshakes {
		busiest := ""
		for src, hs := range s.pending {
			if len(hs) > len(s.pending[busiest]) {
				busiest = src
			}
		}
		s.evictLocked(busiest)
	}
	h := &handshake{conn: c, source: source}
	s.pending[source] = append(s.pending[source], h)
	s.total++
	return h
}

// evictLocked ends the oldest handshake of source.
func (s *authStream) evictLocked(source string) {
	hs := s.pending[source]
	if len(hs) == 0 {
		return
	}
	hs[0].evicted = true
	hs[0].conn.Close()
	s.removeLocked(hs[0])
}

func (s *authStream) removeLocked(h *handshake) {
	hs := s.pending[h.source]
	for i, x := range hs {
		if x == h {
			hs = append(hs[:i], hs[i+1:]...)
			s.total--
			break
		}
	}
	if len(hs) == 0 {
		delete(s.pending, h.source)
	} else {
		s.pending[h.source] = hs
	}
}

// finish frees h's slot and reports whether it still held one.
func (s *authStream) finish(h *handshake) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.evicted {
		return false
	}
	s.removeLocked(h)
	return true
}

// secure runs the listener's side of TLS on c, when configured.
func (s *authStream) secure(c net.Conn) (net.Conn, error) {
	if s.tlsServer == nil {
		return c, nil
	}
	tc := tls.Server(c, s.tlsServer)
	if err := tc.SetDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return c, err
	}
	if err := tc.Handshake(); err != nil {
		return c, err
	}
	return tc, nil
}

// challenge runs the listener's side of the handshake.
func (s *authStream) challenge(c net.Conn) error {
	if err := c.SetDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return err
	}
	nl, err := nonce()
	if err != nil {
		return err
	}
	if _, err := c.Write(append([]byte(handshakeMagic), nl...)); err != nil {
		return err
	}
	got := make([]byte, sha256.Size+nonceLen)
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	nd := got[sha256.Size:]
	if !hmac.Equal(got[:sha256.Size], answer(s.secret, "dial", nl, nd)) {
		return errors.New("raft peer failed the cluster secret challenge")
	}
	if _, err := c.Write(answer(s.secret, "listen", nl, nd)); err != nil {
		return err
	}
	return c.SetDeadline(time.Time{})
}

func nonce() ([]byte, error) {
	n := make([]byte, nonceLen)
	_, err := rand.Read(n)
	return n, err
}

// answer is one side's proof that it holds the secret.
func answer(secret []byte, side string, nl, nd []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(handshakeMagic))
	m.Write([]byte(side))
	m.Write(nl)
	m.Write(nd)
	return m.Sum(nil)
}

// Accept returns the next authenticated connection.
func (s *authStream) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-s.done:
		return nil, errStreamClosed
	}
}

// Dial connects to a peer, from the advertised address when this host
// has it (so that the peer sees a member's address), and runs the
// dialer's side of the handshake.
func (s *authStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	if a, ok := s.adv.(*net.TCPAddr); ok && a.IP != nil && !a.IP.IsUnspecified() {
		d.LocalAddr = &net.TCPAddr{IP: a.IP}
	}
	c, err := d.Dial("tcp", string(address))
	if err != nil && d.LocalAddr != nil {
		// The advertised address is not this host's (NAT): dial from
		// whatever address the route gives.
		d.LocalAddr = nil
		c, err = d.Dial("tcp", string(address))
	}
	if err != nil {
		return nil, err
	}
	if s.tlsClient != nil {
		if c, err = s.secureDial(c, string(address), timeout); err != nil {
			return nil, err
		}
	}
	if err := s.respond(c, timeout); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// secureDial runs the dialer's side of TLS, checking the listener's
// certificate against the host of address.
func (s *authStream) secureDial(c net.Conn, address string, timeout time.Duration) (net.Conn, error) {
	cfg := s.tlsClient.Clone()
	if host, _, err := net.SplitHostPort(address); err == nil && cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if timeout <= 0 || timeout > handshakeTimeout {
		timeout = handshakeTimeout
	}
	tc := tls.Client(c, cfg)
	_ = tc.SetDeadline(time.Now().Add(timeout))
	if err := tc.Handshake(); err != nil {
		c.Close()
		return nil, fmt.Errorf("raft peer %s: tls: %w", address, err)
	}
	return tc, nil
}

func (s *authStream) respond(c net.Conn, timeout time.Duration) error {
	if timeout <= 0 || timeout > handshakeTimeout {
		timeout = handshakeTimeout
	}
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	buf := make([]byte, len(handshakeMagic)+nonceLen)
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if string(buf[:len(handshakeMagic)]) != handshakeMagic {
		return errors.New("raft peer did not send the handshake: is it a Sextant node of this version with a cluster secret?")
	}
	nl := buf[len(handshakeMagic):]
	nd, err := nonce()
	if err != nil {
		return err
	}
	if _, err := c.Write(append(answer(s.secret, "dial", nl, nd), nd...)); err != nil {
		return err
	}
	got := make([]byte, sha256.Size)
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !hmac.Equal(got, answer(s.secret, "listen", nl, nd)) {
		return errors.New("raft peer failed the cluster secret challenge: is the cluster secret the same on every member?")
	}
	return c.SetDeadline(time.Time{})
}

// Close stops accepting and closes the listener; it is idempotent.
func (s *authStream) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.ln.Close()
		s.mu.Lock()
		for _, hs := range s.pending {
			for _, h := range hs {
				h.conn.Close()
			}
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return err
}

// Addr is the advertised address.
func (s *authStream) Addr() net.Addr { return s.adv }
