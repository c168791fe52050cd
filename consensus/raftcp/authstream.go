package raftcp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// The Raft port speaks hashicorp/raft's msgpack RPCs, which decode into
// fixed message types only; authStream adds that only members may speak
// it at all. Every connection starts with a challenge: the listener sends
// a magic string and a fresh random nonce, the dialer answers with
// HMAC-SHA256(secret, magic || nonce). A connection that does not answer
// correctly within handshakeTimeout is closed before Raft reads a byte of
// it, and a nonce is never reused, so a recorded answer cannot be replayed.
const (
	handshakeMagic   = "sextant-raft-1\n"
	nonceLen         = 32
	handshakeTimeout = 3 * time.Second
	// maxHandshakes bounds the handshakes in progress; connections beyond
	// it are closed at once, so a flood of idle connections costs little.
	maxHandshakes = 64
)

var errStreamClosed = errors.New("raft stream layer closed")

// authStream is a raft.StreamLayer over TCP whose connections are
// authenticated with the cluster secret.
type authStream struct {
	ln     net.Listener
	adv    net.Addr
	secret []byte

	conns chan net.Conn
	sem   chan struct{}
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

var _ raft.StreamLayer = (*authStream)(nil)

// newAuthStream serves authenticated Raft connections on ln, advertising adv.
func newAuthStream(ln net.Listener, adv net.Addr, secret string) *authStream {
	s := &authStream{ln: ln, adv: adv, secret: []byte(secret),
		conns: make(chan net.Conn), sem: make(chan struct{}, maxHandshakes), done: make(chan struct{})}
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
		select {
		case s.sem <- struct{}{}:
		default:
			c.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.sem }()
			if err := s.challenge(c); err != nil {
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

// challenge runs the listener's side of the handshake.
func (s *authStream) challenge(c net.Conn) error {
	if err := c.SetDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return err
	}
	nonce := make([]byte, nonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	if _, err := c.Write(append([]byte(handshakeMagic), nonce...)); err != nil {
		return err
	}
	got := make([]byte, sha256.Size)
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !hmac.Equal(got, answer(s.secret, nonce)) {
		return errors.New("raft peer failed the cluster secret challenge")
	}
	return c.SetDeadline(time.Time{})
}

func answer(secret, nonce []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(handshakeMagic))
	m.Write(nonce)
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

// Dial connects to a peer and answers its challenge.
func (s *authStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.Dial("tcp", string(address))
	if err != nil {
		return nil, err
	}
	if err := s.respond(c, timeout); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
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
		return errors.New("raft peer did not send the handshake: is it a Sextant node with a cluster secret?")
	}
	if _, err := c.Write(answer(s.secret, buf[len(handshakeMagic):])); err != nil {
		return err
	}
	return c.SetDeadline(time.Time{})
}

// Close stops accepting and closes the listener; it is idempotent.
func (s *authStream) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.ln.Close()
		s.wg.Wait()
	})
	return err
}

// Addr is the advertised address.
func (s *authStream) Addr() net.Addr { return s.adv }
