package client

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultUserAgent is sent as User-Agent and Client-Version. Nacos servers
// push only to client types they know; the client behaves like the Java 1.x
// client on the wire (grouped names, re-registration on 20404).
const DefaultUserAgent = "Nacos-Java-Client:v1.4.1"

// Config configures a Client. Fields carry the Nacos client's names where
// Nacos has the option.
type Config struct {
	// ServerAddrs are the servers, host:port (port 8848 when left out).
	ServerAddrs []string
	// Endpoint is an address server, host[:port] (port 8080 when left
	// out), asked GET /nacos/serverlist for the server list (one ip[:port]
	// per line) when ServerAddrs is empty; re-read every EndpointRefresh.
	Endpoint        string
	EndpointRefresh time.Duration
	// ContextPath is the servers' base path, "/nacos".
	ContextPath string
	// Scheme is "http" or "https"; CAFile (PEM) adds a CA to trust and
	// implies https.
	Scheme string
	CAFile string
	// NamespaceId is the namespace of every call ("" is "public").
	NamespaceId string
	// AppName is sent as the app parameter.
	AppName string
	// UserAgent is sent as User-Agent and Client-Version.
	UserAgent string
	// TimeoutMs bounds one attempt at one server, in milliseconds.
	TimeoutMs int64
	// ServerCooldown is how long a server that failed is tried after the
	// others.
	ServerCooldown time.Duration
	// BeatInterval is the beat period in milliseconds until a server
	// answers with its clientBeatInterval (an instance's
	// preserved.heart.beat.interval metadata wins).
	BeatInterval int64
	// BeatThreadNum bounds the beats in flight; UpdateThreadNum bounds
	// the polls in flight.
	BeatThreadNum   int
	UpdateThreadNum int
	// Username and Password log in (POST /v1/auth/users/login) and send
	// the accessToken with every request; empty Username: no login.
	Username string
	Password string
	// CacheDir holds snapshots and failover files under
	// {CacheDir}/naming/{namespace}/ ("~/nacos" by default).
	CacheDir string
	// SnapshotEnabled writes a snapshot file per service held after each
	// change. LoadCacheAtStart serves those snapshots from Start until
	// the servers answer.
	SnapshotEnabled  bool
	LoadCacheAtStart bool
	// UpdateCacheWhenEmpty lets an empty instance list from a server
	// replace a non-empty one held (off: an empty answer is taken for a
	// server that lost its data and the held list is kept).
	UpdateCacheWhenEmpty bool
	// FailoverEnabled honours the failover folder: while
	// {CacheDir}/naming/{namespace}/failover/switch holds "1", services
	// that have a failover file there are read from it instead of the
	// servers. The switch is read every FailoverCheckInterval.
	FailoverEnabled       bool
	FailoverCheckInterval time.Duration
	// PushDisabled stops listening for UDP pushes: changes arrive by
	// polling only. PushAddr is the UDP listen address (port 0: any).
	// ClientIP is the address servers push to ("" = the first non-loopback
	// IPv4 address of this host).
	PushDisabled bool
	PushAddr     string
	ClientIP     string
}

// DefaultConfig returns the defaults; set ServerAddrs or Endpoint.
func DefaultConfig() Config {
	return Config{
		EndpointRefresh:       30 * time.Second,
		ContextPath:           "/nacos",
		Scheme:                "http",
		NamespaceId:           "public",
		UserAgent:             DefaultUserAgent,
		TimeoutMs:             10000,
		ServerCooldown:        30 * time.Second,
		BeatInterval:          5000,
		BeatThreadNum:         20,
		UpdateThreadNum:       20,
		CacheDir:              "~/nacos",
		FailoverEnabled:       true,
		FailoverCheckInterval: 5 * time.Second,
		PushAddr:              ":0",
	}
}

// Validate reports every problem found.
func (c Config) Validate() error {
	var errs []error
	if len(c.ServerAddrs) == 0 && c.Endpoint == "" {
		errs = append(errs, errors.New("client: give ServerAddrs or Endpoint"))
	}
	for _, a := range c.ServerAddrs {
		if _, err := normalizeAddr(a, 8848); err != nil {
			errs = append(errs, fmt.Errorf("client: server %w", err))
		}
	}
	if c.Endpoint != "" {
		if _, err := normalizeAddr(c.Endpoint, 8080); err != nil {
			errs = append(errs, fmt.Errorf("client: endpoint %w", err))
		}
		if c.EndpointRefresh <= 0 {
			errs = append(errs, errors.New("client: EndpointRefresh must be positive"))
		}
	}
	if c.ContextPath != "" && !strings.HasPrefix(c.ContextPath, "/") {
		errs = append(errs, fmt.Errorf("client: ContextPath %q must start with /", c.ContextPath))
	}
	switch c.Scheme {
	case "", "http", "https":
	default:
		errs = append(errs, fmt.Errorf("client: Scheme %q must be http or https", c.Scheme))
	}
	if c.TimeoutMs <= 0 {
		errs = append(errs, fmt.Errorf("client: TimeoutMs must be positive, got %d", c.TimeoutMs))
	}
	if c.ServerCooldown < 0 {
		errs = append(errs, fmt.Errorf("client: ServerCooldown must not be negative, got %s", c.ServerCooldown))
	}
	if c.BeatInterval <= 0 {
		errs = append(errs, fmt.Errorf("client: BeatInterval must be positive, got %d", c.BeatInterval))
	}
	if c.BeatThreadNum <= 0 || c.UpdateThreadNum <= 0 {
		errs = append(errs, fmt.Errorf("client: BeatThreadNum and UpdateThreadNum must be positive, got %d and %d", c.BeatThreadNum, c.UpdateThreadNum))
	}
	if (c.SnapshotEnabled || c.LoadCacheAtStart || c.FailoverEnabled) && c.CacheDir == "" {
		errs = append(errs, errors.New("client: CacheDir is required for snapshots and failover"))
	}
	if c.FailoverEnabled && c.FailoverCheckInterval <= 0 {
		errs = append(errs, errors.New("client: FailoverCheckInterval must be positive"))
	}
	if !c.PushDisabled {
		if _, _, err := net.SplitHostPort(c.PushAddr); err != nil {
			errs = append(errs, fmt.Errorf("client: PushAddr %q: %w", c.PushAddr, err))
		}
	}
	if c.ClientIP != "" && net.ParseIP(c.ClientIP) == nil {
		errs = append(errs, fmt.Errorf("client: ClientIP %q is not an IP address", c.ClientIP))
	}
	if c.NamespaceId != "" && !validNamespace(c.NamespaceId) {
		errs = append(errs, fmt.Errorf("client: NamespaceId %q may hold only letters, digits, '-' and '_'", c.NamespaceId))
	}
	return errors.Join(errs...)
}

func validNamespace(ns string) bool {
	if len(ns) > 128 {
		return false
	}
	for i := 0; i < len(ns); i++ {
		b := ns[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}

// normalizeAddr returns host:port, adding the default port when absent.
func normalizeAddr(a string, defPort int) (string, error) {
	a = strings.TrimSpace(a)
	if a == "" {
		return "", errors.New("address is empty")
	}
	if strings.Contains(a, "://") {
		return "", fmt.Errorf("%q: give host:port without a scheme", a)
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		// No port (or a bare IPv6 address).
		host, port = strings.Trim(a, "[]"), strconv.Itoa(defPort)
	}
	p, perr := strconv.Atoi(port)
	if host == "" || perr != nil || p <= 0 || p > 65535 || strings.ContainsAny(host, "/ ") {
		return "", fmt.Errorf("%q is not host[:port]", a)
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), nil
}

// namespace returns the namespace in use ("" is "public").
func (c Config) namespace() string {
	if c.NamespaceId == "" {
		return "public"
	}
	return c.NamespaceId
}

// expandHome replaces a leading "~" by the home directory.
func expandHome(dir string) (string, error) {
	if dir != "~" && !strings.HasPrefix(dir, "~/") {
		return dir, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("client: cache dir %q: %w", dir, err)
	}
	return filepath.Join(home, dir[1:]), nil
}
