package grpcfront

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// Config configures the gRPC front.
type Config struct {
	// Addr is the listen address; Nacos clients dial the HTTP port + 1000
	// (see DefaultAddr).
	Addr string
	// TLS, when set, serves TLS only, with the HTTP front's certificates.
	TLS *tls.Config
	// MaxConnections bounds the connections set up at once; one more has its
	// stream refused with RESOURCE_EXHAUSTED, so the client tries another
	// member.
	MaxConnections int
	// MaxSubscriptionsPerConn bounds the services one connection subscribes.
	MaxSubscriptionsPerConn int
	// MaxInstancesPerConn bounds the instances one connection registers.
	MaxInstancesPerConn int
	// MaxInFlight bounds the naming requests served at once; one more is
	// answered ErrorResponse 503 at once instead of queueing (0: no bound).
	// Connection checks and health checks are not counted.
	MaxInFlight int
	// MaxMessageBytes bounds one received message.
	MaxMessageBytes int
	// IdleProbe is how long a connection may stay silent before it gets a
	// ClientDetectionRequest; ProbeTimeout how long it has to answer before
	// it is ejected.
	IdleProbe    time.Duration
	ProbeTimeout time.Duration
	// PushAckTimeout is how long a push waits for its ack before it is sent
	// again; PushRetries how many times it is sent again before it counts
	// as failed.
	PushAckTimeout time.Duration
	PushRetries    int
	// PushMergeDelay is the shortest time between two pushes of one
	// service (the first change after a quiet spell goes out at once).
	PushMergeDelay time.Duration
	// RenewInterval is how often the instances bound to this node's
	// connections are beaten at their services' responsible members.
	RenewInterval time.Duration
	// ApplyTimeout bounds each write handed to the naming.Writer.
	ApplyTimeout time.Duration
	// DrainTimeout bounds how long Close waits for clients to leave after
	// it sent them ConnectResetRequest.
	DrainTimeout time.Duration
	// CacheMillis is the cacheMillis of every serviceInfo.
	CacheMillis int64
	// CutOff, when set, tells whether this member is cut off from a
	// majority of the cluster. Once it has said so for CutOffGrace, the
	// clients connected then are asked to move to another member
	// (cutoff.go); nil: never (a lone node).
	CutOff      func() bool
	CutOffGrace time.Duration
	// ObserveRequest, when set, hears of every unary request: its type,
	// the outcome (200, or the error code answered) and the time taken. It
	// runs on the request's goroutine and must not block.
	ObserveRequest func(typ string, code int, d time.Duration)
	// ObservePush, when set, hears of every acked push with the time from
	// the change being noticed to the ack.
	ObservePush func(d time.Duration)
}

// DefaultConfig returns the settings of a production node.
func DefaultConfig() Config {
	return Config{
		Addr:                    "127.0.0.1:9848",
		MaxConnections:          20000,
		MaxSubscriptionsPerConn: 10000,
		MaxInstancesPerConn:     10000,
		MaxMessageBytes:         4 << 20,
		MaxInFlight:             4096,
		IdleProbe:               20 * time.Second,
		ProbeTimeout:            3 * time.Second,
		PushAckTimeout:          5 * time.Second,
		PushRetries:             3,
		PushMergeDelay:          100 * time.Millisecond,
		RenewInterval:           5 * time.Second,
		ApplyTimeout:            10 * time.Second,
		DrainTimeout:            3 * time.Second,
		CutOffGrace:             2 * time.Second,
		CacheMillis:             10000,
	}
}

// DefaultAddr returns the address Nacos clients expect beside an HTTP
// address: the same host, the port + 1000.
func DefaultAddr(httpAddr string) (string, error) {
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		return "", fmt.Errorf("http address %q: %w", httpAddr, err)
	}
	var p int
	if _, err := fmt.Sscanf(port, "%d", &p); err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("http address %q: bad port", httpAddr)
	}
	if p == 0 {
		return net.JoinHostPort(host, "0"), nil
	}
	if p+1000 > 65535 {
		return "", fmt.Errorf("http port %d + 1000 is not a port; set the gRPC address", p)
	}
	return net.JoinHostPort(host, fmt.Sprint(p+1000)), nil
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("grpc address %q: %w", c.Addr, err))
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"max connections", c.MaxConnections}, {"max subscriptions per connection", c.MaxSubscriptionsPerConn},
		{"max instances per connection", c.MaxInstancesPerConn}, {"max message bytes", c.MaxMessageBytes}} {
		if v.n <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", v.name, v.n))
		}
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"idle probe", c.IdleProbe}, {"probe timeout", c.ProbeTimeout}, {"push ack timeout", c.PushAckTimeout},
		{"renew interval", c.RenewInterval}, {"apply timeout", c.ApplyTimeout}} {
		if d.d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %v", d.name, d.d))
		}
	}
	if c.PushRetries < 0 || c.PushMergeDelay < 0 || c.DrainTimeout < 0 || c.CutOffGrace < 0 {
		errs = append(errs, errors.New("push retries, push merge delay, drain timeout and cut-off grace must not be negative"))
	}
	if c.CacheMillis <= 0 {
		errs = append(errs, errors.New("cacheMillis must be positive"))
	}
	return errors.Join(errs...)
}
