package healthcheck

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"sextant/naming"
)

// Checker types of naming.HealthChecker.Type.
const (
	TypeTCP  = "TCP"
	TypeHTTP = "HTTP"
	TypeNONE = "NONE"
)

// Target is one persistent instance to probe and how.
type Target struct {
	// Type is TypeTCP or TypeHTTP.
	Type string
	// Addr is the "ip:port" to probe ("[ip]:port" for IPv6).
	Addr string
	// Path, Headers and Codes apply to HTTP probes.
	Path    string
	Headers []naming.CheckHeader
	Codes   naming.StatusCodes
	// Timeout bounds the probe; the caller also puts it on the context.
	Timeout time.Duration
}

// Result is what one probe found.
type Result struct {
	OK bool
	// Reason describes the outcome for logs and GET /instance: "connection
	// refused", "timeout after 500ms", "HTTP 500", "HTTP 200", ...
	Reason string
}

// Prober runs one probe. Probe must return by the time ctx is done (plus
// the time to notice it) and must be safe for concurrent use; a target that
// hangs is a failed probe, never a stalled caller.
type Prober interface {
	Probe(ctx context.Context, t Target) Result
}

// TypeProber sends each target to the prober of its type.
type TypeProber map[string]Prober

// DefaultProber probes TCP targets with TCPProber and HTTP targets with
// an HTTPProber, at any address.
func DefaultProber() TypeProber {
	return TypeProber{TypeTCP: TCPProber{}, TypeHTTP: NewHTTPProber()}
}

// ProberFor is DefaultProber refusing internal addresses unless
// cfg.AllowInternal (internal.go).
func ProberFor(cfg ProbeConfig) TypeProber {
	return TypeProber{TypeTCP: TCPProber{RefuseInternal: !cfg.AllowInternal}, TypeHTTP: newHTTPProber(cfg.AllowInternal)}
}

// Probe runs the prober of t.Type; an unknown type fails.
func (tp TypeProber) Probe(ctx context.Context, t Target) Result {
	p, ok := tp[t.Type]
	if !ok {
		return Result{Reason: "no prober for checker type " + t.Type}
	}
	return p.Probe(ctx, t)
}

// failure turns a dial or request error into a Result with a short reason.
// timeout is the probe's bound, named in the reason when it ran out.
func failure(ctx context.Context, err error, timeout time.Duration) Result {
	return Result{Reason: reasonOf(ctx, err, timeout)}
}

func reasonOf(ctx context.Context, err error, timeout time.Duration) string {
	var ne net.Error
	var internal *ErrInternalTarget
	switch {
	case errors.As(err, &internal):
		return internal.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable"
	case errors.Is(ctx.Err(), context.Canceled):
		return "probe cancelled"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout(), errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "timeout after " + timeout.String()
	}
	s := err.Error()
	// Keep the cause, not the operation prefix ("dial tcp 1.2.3.4:80: ").
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		s = s[i+2:]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
