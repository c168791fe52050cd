package httpfront

import (
	"errors"
	"fmt"
	"net"
	"net/http"
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
	// Internal, when set, serves every path under /sextant/: the cluster's
	// node-to-node endpoints, which the consensus layer provides. It is
	// outside the Nacos API, so naming filters (readiness, 501) do not apply.
	Internal http.Handler
}

// DefaultConfig returns the settings of a production node.
func DefaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8848",
		MaxBodyBytes:    1 << 20,
		Push:            push.DefaultConfig(),
		ApplyTimeout:    10 * time.Second,
		ShutdownTimeout: 5 * time.Second,
		ListCacheSize:   10000,
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
	if c.ApplyTimeout <= 0 {
		errs = append(errs, fmt.Errorf("apply timeout must be positive, got %s", c.ApplyTimeout))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown timeout must be positive, got %s", c.ShutdownTimeout))
	}
	if c.ListCacheSize <= 0 {
		errs = append(errs, fmt.Errorf("list cache size must be positive, got %d", c.ListCacheSize))
	}
	if err := c.Push.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
