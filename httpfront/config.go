package httpfront

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"sextant/httpfront/push"
)

// Config configures the HTTP front.
type Config struct {
	// Addr is the listen address, e.g. "127.0.0.1:8848" (":0" picks a port).
	Addr string
	// MaxBodyBytes bounds a request body; larger bodies get 413.
	MaxBodyBytes int64
	// Push configures UDP pushes to subscribers of instance/list.
	Push push.Config
	// ApplyTimeout bounds each write handed to the naming.Writer.
	ApplyTimeout time.Duration
	// ShutdownTimeout bounds the graceful part of Close.
	ShutdownTimeout time.Duration
	// ListCacheSize bounds the number of encoded instance/list bodies kept.
	ListCacheSize int
	// ListCacheBytes bounds the bytes of encoded instance/list bodies kept
	// (with ListCacheSize, whichever is reached first). A body larger than
	// this on its own is encoded for each request and not kept.
	ListCacheBytes int64
	// Internal, when set, serves every path under /sextant/: the cluster's
	// node-to-node endpoints, which the consensus layer provides
	// (consensus.InternalHandler). The listener hands these requests to it
	// directly, with their own body and in-flight bounds and none of the
	// public checks (load shedding, readiness, access control, Observe):
	// it authenticates peers itself.
	Internal http.Handler
	// InternalMaxInFlight bounds the requests under /sextant/ served at
	// once, apart from MaxInFlight, so that a flood of clients cannot keep
	// peers out nor peers clients; one more is answered 503 at once (0: no
	// bound).
	InternalMaxInFlight int
	// InternalMaxBodyBytes bounds a request body under /sextant/ (Distro
	// records of large services, batches forwarded to the Raft leader);
	// Internal's handlers apply their own, smaller or equal, bounds. It
	// applies only to requests InternalSigned admits; others keep
	// MaxBodyBytes, checked before their body is read.
	InternalMaxBodyBytes int64
	// InternalSigned, when set, checks the signature headers of a request
	// under /sextant/ (method, request URI, a header getter) before its
	// body is read; nil admits none to InternalMaxBodyBytes.
	InternalSigned func(method, uri string, header func(string) string) bool
	// Metrics, when set, serves GET /metrics (the Prometheus exposition),
	// outside the Nacos API like Internal.
	Metrics http.Handler
	// Extra, when set, serves more GET paths outside the Nacos API (the
	// gateway's /gateway/status), as Metrics is served: path → handler.
	Extra map[string]http.Handler
	// Observe, when set, is called once per request after it is answered,
	// with the route pattern (the table's path, "" when no route matched), the
	// method, the status and the time taken. It runs on the request's
	// goroutine, so it must be cheap and must not block.
	Observe func(route, method string, status int, d time.Duration)
	// Auth, when set, checks every Nacos API request and serves login and
	// user management under /nacos/v1/auth (see auth.go). Nil: no checks.
	Auth Guard
	// MaxInFlight bounds the requests served at once; one more is answered
	// 503 at once instead of queueing (0: no bound). Health checks and the
	// internal endpoints are not counted.
	MaxInFlight int
	// MaxConns bounds the open connections (more are answered 503 and
	// closed), MaxConnsPerIP those from one address (429); 0: no bound.
	// Idle keep-alive connections count, so one address cannot hold the
	// node's sockets.
	MaxConns, MaxConnsPerIP int
	// TLS, when set, serves HTTPS with it (certificates usually through
	// GetCertificate, so they can be replaced while serving).
	TLS *tls.Config
	// Console, when set, gives the web console what only the node knows
	// (console_ui.go).
	Console ConsoleSource
}

// DefaultConfig returns the settings of a production node.
func DefaultConfig() Config {
	return Config{
		Addr:         "127.0.0.1:8848",
		MaxBodyBytes: 1 << 20,
		// The largest of the internal handlers' own bounds (Distro's).
		InternalMaxBodyBytes: 64 << 20,
		Push:                 push.DefaultConfig(),
		ApplyTimeout:         10 * time.Second,
		ShutdownTimeout:      5 * time.Second,
		ListCacheSize:        10000,
		ListCacheBytes:       64 << 20,
		MaxInFlight:          4096,
		InternalMaxInFlight:  1024,
		MaxConns:             16384,
		MaxConnsPerIP:        1024,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("http address %q: %w", c.Addr, err))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("max body bytes must be at least 1024, got %d", c.MaxBodyBytes))
	}
	if c.InternalMaxBodyBytes < c.MaxBodyBytes {
		errs = append(errs, fmt.Errorf("internal max body bytes (%d) must be at least max body bytes (%d)", c.InternalMaxBodyBytes, c.MaxBodyBytes))
	}
	if c.ApplyTimeout <= 0 {
		errs = append(errs, fmt.Errorf("apply timeout must be positive, got %s", c.ApplyTimeout))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown timeout must be positive, got %s", c.ShutdownTimeout))
	}
	if c.InternalMaxInFlight < 0 {
		errs = append(errs, fmt.Errorf("max in-flight internal requests must not be negative, got %d", c.InternalMaxInFlight))
	}
	for path := range c.Extra {
		if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "/nacos/") || strings.HasPrefix(path, InternalPrefix+"/") || path == MetricsPath {
			errs = append(errs, fmt.Errorf("extra path %q must start with / and lie outside /nacos/, %s/ and %s", path, InternalPrefix, MetricsPath))
		}
	}
	if c.MaxConns < 0 || c.MaxConnsPerIP < 0 {
		errs = append(errs, fmt.Errorf("max connections (%d) and per address (%d) must not be negative", c.MaxConns, c.MaxConnsPerIP))
	}
	if c.MaxInFlight < 0 {
		errs = append(errs, fmt.Errorf("max in-flight requests must not be negative, got %d", c.MaxInFlight))
	}
	if c.ListCacheSize <= 0 {
		errs = append(errs, fmt.Errorf("list cache size must be positive, got %d", c.ListCacheSize))
	}
	if c.ListCacheBytes <= 0 {
		errs = append(errs, fmt.Errorf("list cache bytes must be positive, got %d", c.ListCacheBytes))
	}
	if err := c.Push.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
