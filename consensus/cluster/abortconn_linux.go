package cluster

import (
	"net"
	"syscall"
	"unsafe"
)

// unacknowledged returns the bytes c's socket holds that its peer has not
// acknowledged, sent or not (SIOCOUTQ); 0 when it cannot tell.
func unacknowledged(c *net.TCPConn) int {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	var n int32
	_ = raw.Control(func(fd uintptr) {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n))); e != 0 {
			n = 0
		}
	})
	return int(n)
}
