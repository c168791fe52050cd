package dnsfront

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The socket loop reads queries in batches with recvmmsg, answers them on
// the wire path and writes the replies in one sendmmsg; queries the wire
// path leaves go to the full path through slowConn. There is one
// SO_REUSEPORT socket and loop per core, so each core reads its own
// queue. On a wildcard address each query comes with the address it was
// sent to (IP_PKTINFO, IPV6_PKTINFO), and its reply leaves from that
// address, as the miekg/dns server does.

// wireLoopSupported tells whether this system has the socket loop.
const wireLoopSupported = true

// batchSize is how many datagrams one system call reads or writes.
const batchSize = 32

// mmsghdr is struct mmsghdr: a message header and the byte count the
// kernel fills in. Go lays it out as C does on every Linux architecture.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// reusePort sets SO_REUSEPORT on a socket before it is bound, so that
// several sockets share one address and the kernel spreads the queries.
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// udpLoop serves one socket. Its buffers are its own: nothing is
// allocated per query on the wire path.
type udpLoop struct {
	s    *Server
	conn *net.UDPConn
	rc   syscall.RawConn
	slow *slowConn

	in    [batchSize][udpReadSize]byte
	names [batchSize]unix.RawSockaddrInet6
	iovs  [batchSize]unix.Iovec
	hdrs  [batchSize]mmsghdr

	out   [batchSize][]byte
	oiovs [batchSize]unix.Iovec
	ohdrs [batchSize]mmsghdr

	// With pktinfo, oob receives the destination of each query and
	// ooob holds the source of each reply.
	pktinfo bool
	oob     [batchSize][cmsgSpace]byte
	ooob    [batchSize][cmsgSpace]byte

	// Results of the system calls, set by recv and send.
	n          int
	err        error
	sent, want int
	recvFn     func(fd uintptr) bool
	sendFn     func(fd uintptr) bool
}

// cmsgSpace is room for one packet-info control message.
const cmsgSpace = 64

// newUDPLoop prepares the loop of one socket; with pktinfo, replies leave
// from the address their query was sent to.
func newUDPLoop(s *Server, conn *net.UDPConn, slow *slowConn, pktinfo bool) (*udpLoop, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	if pktinfo {
		if err := enablePktinfo(rc); err != nil {
			return nil, err
		}
	}
	l := &udpLoop{s: s, conn: conn, rc: rc, slow: slow, pktinfo: pktinfo}
	for i := range l.hdrs {
		l.iovs[i].Base = &l.in[i][0]
		l.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&l.names[i]))
		l.hdrs[i].hdr.Iov = &l.iovs[i]
		l.hdrs[i].hdr.SetIovlen(1)
		l.out[i] = make([]byte, 0, packBufSize)
		l.ohdrs[i].hdr.Iov = &l.oiovs[i]
		l.ohdrs[i].hdr.SetIovlen(1)
	}
	l.recvFn, l.sendFn = l.recv, l.send
	return l, nil
}

// recv reads up to batchSize datagrams; false asks to wait until the
// socket is readable.
func (l *udpLoop) recv(fd uintptr) bool {
	for i := range l.hdrs {
		l.iovs[i].SetLen(udpReadSize)
		l.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		l.hdrs[i].hdr.Flags = 0
		if l.pktinfo {
			l.hdrs[i].hdr.Control = &l.oob[i][0]
			l.hdrs[i].hdr.SetControllen(cmsgSpace)
		}
	}
	for {
		n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&l.hdrs[0])), batchSize, unix.MSG_DONTWAIT, 0, 0)
		switch errno {
		case 0:
			l.n, l.err = int(n), nil
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		l.n, l.err = 0, errno
		return true
	}
}

// send writes the replies from l.sent to l.want; false asks to wait until
// the socket is writable. A reply the kernel refuses is skipped.
func (l *udpLoop) send(fd uintptr) bool {
	for l.sent < l.want {
		n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&l.ohdrs[l.sent])), uintptr(l.want-l.sent), unix.MSG_DONTWAIT, 0, 0)
		switch errno {
		case 0:
			l.sent += int(n)
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			l.sent++
		}
	}
	return true
}

// run serves until the socket is closed.
func (l *udpLoop) run() {
	for {
		if err := l.rc.Read(l.recvFn); err != nil {
			return // closed
		}
		if l.err != nil {
			l.s.log.WithError(l.err).Debug("dns recvmmsg failed")
			continue
		}
		k := 0
		for i := 0; i < l.n; i++ {
			from, ok := sockaddrPort(&l.names[i], l.hdrs[i].hdr.Namelen)
			if !ok {
				continue
			}
			pkt := l.in[i][:l.hdrs[i].n]
			reply, res := l.s.answerWire(pkt, from.Addr(), l.out[k])
			var src []byte // control message setting the reply's source
			if l.pktinfo && res != wireDrop {
				oob := l.oob[i][:min(int(l.hdrs[i].hdr.Controllen), cmsgSpace)]
				src = l.ooob[k][:replySource(oob, l.ooob[k][:])]
			}
			switch res {
			case wireReply:
				l.out[k] = reply[:0]
				l.oiovs[k].Base = &reply[0]
				l.oiovs[k].SetLen(len(reply))
				l.ohdrs[k].hdr.Name = l.hdrs[i].hdr.Name
				l.ohdrs[k].hdr.Namelen = l.hdrs[i].hdr.Namelen
				l.ohdrs[k].hdr.Control = nil
				l.ohdrs[k].hdr.SetControllen(0)
				if len(src) > 0 {
					l.ohdrs[k].hdr.Control = &src[0]
					l.ohdrs[k].hdr.SetControllen(len(src))
				}
				k++
			case wirePass:
				// The miekg/dns server ignores datagrams shorter than a header.
				if len(pkt) >= headerLen && !l.slow.deliver(pkt, from, src) {
					l.s.log.Debug("dns full path busy, query dropped")
				}
			}
		}
		if k > 0 {
			l.sent, l.want = 0, k
			if err := l.rc.Write(l.sendFn); err != nil {
				return
			}
		}
	}
}

// sockaddrPort reads the address a datagram came from.
func sockaddrPort(sa *unix.RawSockaddrInet6, n uint32) (netip.AddrPort, bool) {
	port := func(p *uint16) uint16 { return binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(p))[:]) }
	switch sa.Family {
	case unix.AF_INET6:
		if n < unix.SizeofSockaddrInet6 {
			return netip.AddrPort{}, false
		}
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), port(&sa.Port)), true
	case unix.AF_INET:
		if n < unix.SizeofSockaddrInet4 {
			return netip.AddrPort{}, false
		}
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port(&sa4.Port)), true
	}
	return netip.AddrPort{}, false
}

// enablePktinfo asks the kernel to tell each query's destination address.
func enablePktinfo(rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		family, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
		switch {
		case err != nil:
			serr = err
		case family == unix.AF_INET6:
			// Also covers IPv4 queries on a dual-stack socket, with
			// IPv4-mapped addresses.
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
		default:
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// replySource reads the destination of a query from its control messages
// and writes into out a control message that makes the reply leave from
// that address (interface left to routing). It returns the length
// written, 0 when the destination is not known.
func replySource(oob, out []byte) int {
	hdrLen := unix.CmsgLen(0)
	for len(oob) >= hdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		n := int(h.Len)
		if n < hdrLen || n > len(oob) {
			return 0
		}
		data := oob[hdrLen:n]
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			in := (*unix.Inet4Pktinfo)(unsafe.Pointer(&data[0]))
			return putSource4(out, in.Addr)
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			in := (*unix.Inet6Pktinfo)(unsafe.Pointer(&data[0]))
			if a := netip.AddrFrom16(in.Addr); a.Is4In6() {
				return putSource4(out, a.Unmap().As4())
			}
			return putSource6(out, in.Addr)
		}
		next := unix.CmsgSpace(n - hdrLen)
		if next >= len(oob) {
			return 0
		}
		oob = oob[next:]
	}
	return 0
}

func putSource4(out []byte, addr [4]byte) int {
	n := unix.CmsgSpace(unix.SizeofInet4Pktinfo)
	if len(out) < n {
		return 0
	}
	clear(out[:n])
	h := (*unix.Cmsghdr)(unsafe.Pointer(&out[0]))
	h.Level, h.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
	h.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
	pi := (*unix.Inet4Pktinfo)(unsafe.Pointer(&out[unix.CmsgLen(0)]))
	pi.Spec_dst = addr
	return n
}

func putSource6(out []byte, addr [16]byte) int {
	n := unix.CmsgSpace(unix.SizeofInet6Pktinfo)
	if len(out) < n {
		return 0
	}
	clear(out[:n])
	h := (*unix.Cmsghdr)(unsafe.Pointer(&out[0]))
	h.Level, h.Type = unix.IPPROTO_IPV6, unix.IPV6_PKTINFO
	h.SetLen(unix.CmsgLen(unix.SizeofInet6Pktinfo))
	pi := (*unix.Inet6Pktinfo)(unsafe.Pointer(&out[unix.CmsgLen(0)]))
	pi.Addr = addr
	return n
}
