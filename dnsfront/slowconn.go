package dnsfront

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// slowQueueLen bounds the queries waiting for the full path; beyond it
// they are dropped, as a full socket buffer would drop them.
const slowQueueLen = 1024

// slowConn is the packet connection the miekg/dns server reads when the
// socket loop (udploop.go) serves UDP: the loop hands it every query the
// wire path does not answer, and the server's replies go out through a
// real socket. The full path thus sees exactly what it would read from the
// socket itself.
type slowConn struct {
	in    chan slowPacket
	done  chan struct{}
	once  sync.Once
	out   *net.UDPConn
	local net.Addr
}

type slowPacket struct {
	b    []byte
	from netip.AddrPort
	oob  []byte // control message setting the reply's source; nil: none
}

// slowAddr is the client address the miekg/dns server is handed: the
// client, and how the reply must be sent.
type slowAddr struct {
	*net.UDPAddr
	oob []byte
}

func newSlowConn(out *net.UDPConn) *slowConn {
	return &slowConn{in: make(chan slowPacket, slowQueueLen), done: make(chan struct{}), out: out, local: out.LocalAddr()}
}

// deliver queues a copy of a query, with the control message its reply
// must carry (nil for none); false when the queue is full or the
// connection closed.
func (c *slowConn) deliver(b []byte, from netip.AddrPort, oob []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.in <- slowPacket{b: append([]byte(nil), b...), from: from, oob: append([]byte(nil), oob...)}:
		return true
	default:
		return false
	}
}

func (c *slowConn) ReadFrom(p []byte) (int, net.Addr, error) {
	select {
	case pk := <-c.in:
		return copy(p, pk.b), &slowAddr{UDPAddr: net.UDPAddrFromAddrPort(pk.from), oob: pk.oob}, nil
	case <-c.done:
		return 0, nil, net.ErrClosed
	}
}

func (c *slowConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	sa, ok := addr.(*slowAddr)
	if !ok {
		return 0, errors.New("dns reply to an address the loop did not give")
	}
	if len(sa.oob) > 0 {
		n, _, err := c.out.WriteMsgUDPAddrPort(b, sa.oob, sa.AddrPort())
		return n, err
	}
	return c.out.WriteToUDPAddrPort(b, sa.AddrPort())
}

func (c *slowConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

func (c *slowConn) LocalAddr() net.Addr { return c.local }

func (c *slowConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

// SetReadDeadline with a time in the past is how the miekg/dns server
// stops its read loop: it closes the connection. Other deadlines only
// bound the wait for the next query, which may as well be unbounded.
func (c *slowConn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() && !t.After(time.Now()) {
		c.Close()
	}
	return nil
}

func (c *slowConn) SetWriteDeadline(time.Time) error { return nil }
