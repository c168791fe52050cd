package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// GatewayConfig is the configuration of `sextant gateway`. YAML keys equal
// flag names; etc/sextant-gateway.yaml documents every key.
type GatewayConfig struct {
	Servers               []string      `yaml:"servers"`
	Endpoint              string        `yaml:"endpoint"`
	Namespace             string        `yaml:"namespace"`
	Services              []string      `yaml:"services"`
	DNSAddr               string        `yaml:"dns-addr"`
	DNSZone               string        `yaml:"dns-zone"`
	DNSTTL                time.Duration `yaml:"dns-ttl"`
	DNSNegativeTTL        time.Duration `yaml:"dns-negative-ttl"`
	DNSRecursors          []string      `yaml:"dns-recursors"`
	DNSMaxUDPSize         int           `yaml:"dns-max-udp-size"`
	HTTPAddr              string        `yaml:"http-addr"`
	CacheDir              string        `yaml:"cache-dir"`
	Snapshot              bool          `yaml:"snapshot"`
	LoadCacheAtStart      bool          `yaml:"load-cache-at-start"`
	UpdateCacheWhenEmpty  bool          `yaml:"update-cache-when-empty"`
	FailoverCheckInterval time.Duration `yaml:"failover-check-interval"`
	RequestTimeout        time.Duration `yaml:"request-timeout"`
	ServerCooldown        time.Duration `yaml:"server-cooldown"`
	PollThreads           int           `yaml:"poll-threads"`
	Push                  bool          `yaml:"push"`
	PushAddr              string        `yaml:"push-addr"`
	ClientIP              string        `yaml:"client-ip"`
	TLS                   bool          `yaml:"tls"`
	CAFile                string        `yaml:"ca-file"`
	Username              string        `yaml:"username"`
	Password              string        `yaml:"password"`
	MaxServices           int           `yaml:"max-services"`
	MissWait              time.Duration `yaml:"miss-wait"`
	StaleWarnAfter        time.Duration `yaml:"stale-warn-after"`
	LogLevel              string        `yaml:"log-level"`
}

// DefaultGatewayConfig is what a gateway runs with when no file or flag
// says otherwise (servers must be given).
func DefaultGatewayConfig() GatewayConfig {
	return GatewayConfig{
		Namespace:             naming.DefaultNamespace,
		DNSAddr:               "127.0.0.1:53",
		DNSZone:               "nacos.",
		DNSTTL:                5 * time.Second,
		DNSNegativeTTL:        5 * time.Second,
		DNSMaxUDPSize:         1232,
		HTTPAddr:              "127.0.0.1:8849",
		CacheDir:              "./cache",
		Snapshot:              true,
		FailoverCheckInterval: 5 * time.Second,
		RequestTimeout:        3 * time.Second,
		ServerCooldown:        30 * time.Second,
		PollThreads:           8,
		Push:                  true,
		PushAddr:              "0.0.0.0:0",
		MaxServices:           1000,
		MissWait:              time.Second,
		StaleWarnAfter:        30 * time.Second,
		LogLevel:              "info",
	}
}

// Validate checks what the components do not check themselves.
func (c GatewayConfig) Validate() error {
	var errs []error
	if len(c.Servers) == 0 && c.Endpoint == "" {
		errs = append(errs, errors.New("servers (or endpoint) is required"))
	}
	if err := naming.ValidateNamespaceID(c.Namespace); err != nil {
		errs = append(errs, fmt.Errorf("namespace: %w", err))
	}
	for _, s := range c.Services {
		if err := naming.NewServiceKey(c.Namespace, "", s).Validate(); err != nil {
			errs = append(errs, fmt.Errorf("services: %q: %w", s, err))
		}
	}
	if c.DNSAddr == "" {
		errs = append(errs, errors.New("dns-addr is required"))
	}
	if c.HTTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("http-addr %q: %w", c.HTTPAddr, err))
		}
	}
	if (c.Snapshot || c.LoadCacheAtStart) && c.CacheDir == "" {
		errs = append(errs, errors.New("cache-dir is required for the snapshot"))
	}
	if c.MaxServices <= 0 {
		errs = append(errs, fmt.Errorf("max-services must be positive, got %d", c.MaxServices))
	}
	if c.MissWait < 0 || c.MissWait > 5*time.Second {
		errs = append(errs, fmt.Errorf("miss-wait must be between 0 and 5s, got %s", c.MissWait))
	}
	if c.StaleWarnAfter <= 0 {
		errs = append(errs, fmt.Errorf("stale-warn-after must be positive, got %s", c.StaleWarnAfter))
	}
	if _, err := logrus.ParseLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("log-level: %w", err))
	}
	return errors.Join(errs...)
}

// listFlag is a comma-separated list flag.
type listFlag struct{ p *[]string }

func (l listFlag) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

func (l listFlag) Set(s string) error {
	*l.p = splitList(s)
	return nil
}

// gatewayFlags binds every key to a flag writing into cfg.
func gatewayFlags(cfg *GatewayConfig, config *string) *flag.FlagSet {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.StringVar(config, "config", "", "YAML config file (every key is documented in etc/sextant-gateway.yaml)")
	fs.Var(listFlag{&cfg.Servers}, "servers", "comma-separated server addresses host:port (Nacos v1 HTTP API)")
	fs.StringVar(&cfg.Endpoint, "endpoint", cfg.Endpoint, "address server host[:port] answering /nacos/serverlist, used when servers is empty")
	fs.StringVar(&cfg.Namespace, "namespace", cfg.Namespace, "namespace of the services listed in services")
	fs.Var(listFlag{&cfg.Services}, "services", "comma-separated services to follow from the start (name or group@@name)")
	fs.StringVar(&cfg.DNSAddr, "dns-addr", cfg.DNSAddr, "DNS listen address, UDP and TCP")
	fs.StringVar(&cfg.DNSZone, "dns-zone", cfg.DNSZone, "DNS zone served")
	fs.DurationVar(&cfg.DNSTTL, "dns-ttl", cfg.DNSTTL, "TTL of DNS answers")
	fs.DurationVar(&cfg.DNSNegativeTTL, "dns-negative-ttl", cfg.DNSNegativeTTL, "TTL of negative DNS answers (SOA minimum)")
	fs.Var(listFlag{&cfg.DNSRecursors}, "dns-recursors", "comma-separated upstream resolvers for names outside the zone")
	fs.IntVar(&cfg.DNSMaxUDPSize, "dns-max-udp-size", cfg.DNSMaxUDPSize, "largest UDP DNS answer")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "HTTP listen address: read-only instance/list and /gateway/status (empty: off)")
	fs.StringVar(&cfg.CacheDir, "cache-dir", cfg.CacheDir, "folder of the snapshot and failover files ({cache-dir}/naming/{namespace}/)")
	fs.BoolVar(&cfg.Snapshot, "snapshot", cfg.Snapshot, "write a snapshot file per service after each change")
	fs.BoolVar(&cfg.LoadCacheAtStart, "load-cache-at-start", cfg.LoadCacheAtStart, "serve the snapshot from the start, before any server answers")
	fs.BoolVar(&cfg.UpdateCacheWhenEmpty, "update-cache-when-empty", cfg.UpdateCacheWhenEmpty, "let an empty instance list from a server replace a non-empty one")
	fs.DurationVar(&cfg.FailoverCheckInterval, "failover-check-interval", cfg.FailoverCheckInterval, "how often the failover switch is read")
	fs.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "time allowed to one server for one request")
	fs.DurationVar(&cfg.ServerCooldown, "server-cooldown", cfg.ServerCooldown, "how long a failed server is tried after the others")
	fs.IntVar(&cfg.PollThreads, "poll-threads", cfg.PollThreads, "polls in flight at most")
	fs.BoolVar(&cfg.Push, "push", cfg.Push, "receive UDP pushes from the servers (else poll only)")
	fs.StringVar(&cfg.PushAddr, "push-addr", cfg.PushAddr, "UDP address pushes are received on (port 0: any)")
	fs.StringVar(&cfg.ClientIP, "client-ip", cfg.ClientIP, "address the servers push to (empty: this host's first non-loopback IPv4)")
	fs.BoolVar(&cfg.TLS, "tls", cfg.TLS, "talk HTTPS to the servers")
	fs.StringVar(&cfg.CAFile, "ca-file", cfg.CAFile, "PEM CA to trust for HTTPS (implies tls)")
	fs.StringVar(&cfg.Username, "username", cfg.Username, "login user when the servers have auth on")
	fs.StringVar(&cfg.Password, "password", cfg.Password, "login password (prefer the config file: flags show in ps)")
	fs.IntVar(&cfg.MaxServices, "max-services", cfg.MaxServices, "most services followed on demand")
	fs.DurationVar(&cfg.MissWait, "miss-wait", cfg.MissWait, "how long a DNS query for a service not yet followed waits for it")
	fs.DurationVar(&cfg.StaleWarnAfter, "stale-warn-after", cfg.StaleWarnAfter, "log a warning when no server has answered for this long")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	return fs
}

// parseGatewayArgs reads the flags, then the config file, then applies the
// flags again so that they win over the file.
func parseGatewayArgs(args []string, stderr io.Writer) (GatewayConfig, string, error) {
	var path string
	scratch := DefaultGatewayConfig()
	first := gatewayFlags(&scratch, &path)
	first.SetOutput(io.Discard)
	if err := first.Parse(args); err != nil {
		second := gatewayFlags(&scratch, &path)
		second.SetOutput(stderr)
		return GatewayConfig{}, "", second.Parse(args)
	}
	cfg, err := buildGatewayConfig(args, path, stderr)
	return cfg, path, err
}

// buildGatewayConfig is the second pass: defaults, the file, the flags.
func buildGatewayConfig(args []string, path string, stderr io.Writer) (GatewayConfig, error) {
	cfg := DefaultGatewayConfig()
	if path != "" {
		if err := loadConfigFile(path, &cfg); err != nil {
			return GatewayConfig{}, err
		}
	}
	var ignored string
	fs := gatewayFlags(&cfg, &ignored)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return GatewayConfig{}, err
	}
	if fs.NArg() > 0 {
		return GatewayConfig{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return cfg, cfg.Validate()
}
