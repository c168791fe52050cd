//go:build !linux

package dnsfront

import (
	"errors"
	"net"
	"syscall"
)

// wireLoopSupported tells whether this system has the socket loop of
// udploop_linux.go; elsewhere the miekg/dns server serves UDP alone.
const wireLoopSupported = false

func reusePort(_, _ string, _ syscall.RawConn) error { return errors.New("no SO_REUSEPORT here") }

type udpLoop struct{}

func newUDPLoop(*Server, *net.UDPConn, *slowConn, bool) (*udpLoop, error) {
	return nil, errors.New("no socket loop on this system")
}

func (l *udpLoop) run() {}
