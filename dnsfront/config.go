package dnsfront

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"sextant/naming"
)

// Limits on the configuration.
const (
	// maxZoneLen keeps every synthesised name (a 32-digit address label
	// under addr.<zone>) well inside the 255-byte limit, and every negative
	// answer inside 512 bytes.
	maxZoneLen = 128
	maxTTL     = 24 * time.Hour
	minUDPSize = 512 // RFC 1035: the size every client accepts
	maxMsgSize = 65535
	// maxUDPSockets bounds Config.UDPSockets.
	maxUDPSockets = 64
)

// Config configures the DNS front.
type Config struct {
	// Addr is the address served over both UDP and TCP, e.g.
	// "127.0.0.1:8600". Port 0 picks a free port, the same for both.
	Addr string
	// Zone is the zone served, e.g. "nacos."; matched case-insensitively.
	Zone string
	// TTL of positive answers, in whole seconds (fractions are dropped).
	TTL time.Duration
	// NegativeTTL is the SOA minimum and the TTL of the SOA record that
	// negative answers carry (RFC 2308).
	NegativeTTL time.Duration
	// Recursors are upstream resolvers (host:port) asked for names outside
	// the zone. Empty: such names are REFUSED.
	Recursors []string
	// RecursorTimeout bounds one exchange with one recursor.
	RecursorTimeout time.Duration
	// MaxUDPSize caps UDP answers, whatever size the client advertises.
	MaxUDPSize int
	// OnMiss, when set, is called when a query names a service (plain or
	// RFC 2782 form) that the source does not hold, with the key asked. It
	// lets a source that fetches services on demand learn what is wanted.
	// The query waits while it runs, so it must return quickly (within
	// about a second); when it returns true the lookup is repeated once.
	// Leave it nil when the source holds everything there is.
	OnMiss func(naming.ServiceKey) bool
	// RecursionAllow lists the client networks (CIDRs or addresses) whose
	// queries for names outside the zone are forwarded to Recursors;
	// others get REFUSED. Default: loopback only.
	RecursionAllow []string
	// RateLimit, when positive, limits UDP answers to this many per second
	// per client network (/24 for IPv4, /56 for IPv6); answers over it are
	// dropped or sent truncated, alternately. TCP is never limited, nor
	// are the clients in RateLimitExempt (default: loopback).
	RateLimit int
	// RateLimitExempt lists the client networks (CIDRs or addresses) the
	// rate limit leaves alone.
	RateLimitExempt []string
	// RateLimitTable bounds the client networks the rate limit tracks.
	RateLimitTable int
	// UDPSockets is the number of UDP sockets (SO_REUSEPORT) and reading
	// loops on Linux; 0 means one per CPU (GOMAXPROCS). Elsewhere one
	// socket is used.
	UDPSockets int
}

// DefaultRateLimit is the default of Config.RateLimit: at a flood of 1,000
// spoofed queries a second the node sends back at most about twice the
// bytes it receives, while resolvers of a client network still get 50
// full answers a second over UDP and the rest over TCP.
const DefaultRateLimit = 50

// DefaultConfig returns the defaults of the README's DNS section (TTL and
// negative TTL 5 s, UDP answers capped at 1232 bytes with EDNS).
func DefaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8600",
		Zone:            "nacos.",
		TTL:             5 * time.Second,
		NegativeTTL:     5 * time.Second,
		RecursorTimeout: 2 * time.Second,
		MaxUDPSize:      1232,
		RecursionAllow:  []string{"127.0.0.0/8", "::1/128"},
		RateLimit:       DefaultRateLimit,
		RateLimitExempt: []string{"127.0.0.0/8", "::1/128"},
		RateLimitTable:  65536,
	}
}

// Validate reports the first problem of each kind found in c.
func (c Config) Validate() error {
	var errs []error
	if _, err := splitAddr(c.Addr, true); err != nil {
		errs = append(errs, fmt.Errorf("dns addr: %w", err))
	}
	if err := validateZone(normalizeZone(c.Zone)); err != nil {
		errs = append(errs, err)
	}
	if c.TTL < 0 || c.TTL > maxTTL {
		errs = append(errs, fmt.Errorf("dns ttl %v: must be between 0 and %v", c.TTL, maxTTL))
	}
	if c.NegativeTTL < 0 || c.NegativeTTL > maxTTL {
		errs = append(errs, fmt.Errorf("dns negative ttl %v: must be between 0 and %v", c.NegativeTTL, maxTTL))
	}
	for _, r := range c.Recursors {
		if _, err := splitAddr(r, false); err != nil {
			errs = append(errs, fmt.Errorf("dns recursor: %w", err))
		}
	}
	if len(c.Recursors) > 0 && c.RecursorTimeout <= 0 {
		errs = append(errs, fmt.Errorf("dns recursor timeout %v: must be positive", c.RecursorTimeout))
	}
	if _, err := parseACL(c.RecursionAllow); err != nil {
		errs = append(errs, err)
	}
	if _, err := parseNets("dns rate limit exempt", c.RateLimitExempt); err != nil {
		errs = append(errs, err)
	}
	if c.RateLimit < 0 {
		errs = append(errs, fmt.Errorf("dns rate limit %d: must not be negative", c.RateLimit))
	}
	if c.RateLimit > 0 && c.RateLimitTable < rrlShards {
		errs = append(errs, fmt.Errorf("dns rate limit table %d: must be at least %d", c.RateLimitTable, rrlShards))
	}
	if c.UDPSockets < 0 || c.UDPSockets > maxUDPSockets {
		errs = append(errs, fmt.Errorf("dns udp sockets %d: must be between 0 and %d", c.UDPSockets, maxUDPSockets))
	}
	if c.MaxUDPSize < minUDPSize || c.MaxUDPSize > maxMsgSize {
		errs = append(errs, fmt.Errorf("dns max udp size %d: must be between %d and %d", c.MaxUDPSize, minUDPSize, maxMsgSize))
	}
	return errors.Join(errs...)
}

// splitAddr checks a host:port address and returns its host.
func splitAddr(addr string, zeroPort bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%q is not host:port", addr)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 || (p == 0 && !zeroPort) {
		return "", fmt.Errorf("%q has an invalid port", addr)
	}
	return host, nil
}

// normalizeZone lowercases z and makes it fully qualified.
func normalizeZone(z string) string {
	z = strings.ToLower(strings.TrimSpace(z))
	if !strings.HasSuffix(z, ".") {
		z += "."
	}
	return z
}

// validateZone accepts a normalised zone of plain labels (letters, digits,
// '-' and '_'), so that names under it never need escapes.
func validateZone(z string) error {
	if z == "." {
		return errors.New("dns zone must not be the root")
	}
	if len(z) > maxZoneLen {
		return fmt.Errorf("dns zone %q: longer than %d bytes", z, maxZoneLen)
	}
	for _, l := range strings.Split(strings.TrimSuffix(z, "."), ".") {
		if l == "" || len(l) > 63 {
			return fmt.Errorf("dns zone %q: empty or over-long label", z)
		}
		for i := 0; i < len(l); i++ {
			b := l[i]
			if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
				return fmt.Errorf("dns zone %q: labels may hold only letters, digits, '-' and '_'", z)
			}
		}
	}
	return nil
}
