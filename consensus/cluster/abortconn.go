package cluster

import (
	"context"
	"net"
)

// abortingConn is a node-to-node connection that, closed while its socket
// still holds bytes the peer has not acknowledged, resets instead of
// finishing the send. The HTTP client closes a connection when a call
// gives up (its context ended: a cut or slow link); a normal close would
// leave the request in the kernel, retransmitted until the link returns,
// and the peer would then act on a write whose sender had answered its
// client with a failure long before (a registration applied after the
// client's later deregistration). A reset drops it. A call whose request
// was acknowledged is closed normally.
type abortingConn struct {
	*net.TCPConn
}

func (c abortingConn) Close() error {
	if unacknowledged(c.TCPConn) > 0 {
		_ = c.SetLinger(0)
	}
	return c.TCPConn.Close()
}

// dialAborting dials with d and wraps TCP connections in abortingConn.
func dialAborting(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok && err == nil {
			return abortingConn{tc}, nil
		}
		return c, err
	}
}
