package healthcheck

import (
	"context"
	"net"
)

// TCPProber passes when a TCP connection to the target opens within the
// timeout. It sends nothing and closes with a reset (linger 0), as HAProxy's
// TCP checks do, so that frequent probes leave no TIME_WAIT sockets behind.
// With RefuseInternal, loopback, link-local and metadata addresses fail
// without a packet sent (internal.go).
type TCPProber struct{ RefuseInternal bool }

// Probe connects to t.Addr.
func (p TCPProber) Probe(ctx context.Context, t Target) Result {
	conn, err := dialer(!p.RefuseInternal).DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return failure(ctx, err, t.Timeout)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
	return Result{OK: true, Reason: "tcp connect ok"}
}
