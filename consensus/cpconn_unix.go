//go:build unix

package consensus

import (
	"net"
	"syscall"
)

// alive reports whether c has nothing to read and is not closed by its
// peer: a kept connection carries nothing between requests, so readable
// data or an end of stream means the leader closed it (or broke the
// protocol). It peeks without blocking and without consuming.
func alive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ok = false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		// Nothing to read (EAGAIN) is the one good answer; 0 bytes is the
		// end of the stream, more is data nobody asked for.
		_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK
		return true // never wait for readiness
	})
	return err == nil && ok
}
