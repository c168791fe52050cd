package healthcheck

import (
	"context"
	"net"
)

// TCPProber passes when a TCP connection to the target opens within the
// timeout. It sends nothing and closes with a reset (linger 0), as HAProxy's
// TCP checks do, so that frequent probes leave no TIME_WAIT sockets behind.
type TCPProber struct{}

// Probe connects to t.Addr.
func (TCPProber) Probe(ctx context.Context, t Target) Result {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return failure(ctx, err, t.Timeout)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
	return Result{OK: true, Reason: "tcp connect ok"}
}
