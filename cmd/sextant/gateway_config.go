package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"sextant/naming"
)

// GatewayConfig is the configuration of `sextant gateway`. YAML keys equal
// flag names; etc/sextant-gateway.yaml documents every key.
type GatewayConfig struct {
	// The DNS front and the log level, shared with the node.
	commonSettings `yaml:",inline"`

	Servers               []string      `yaml:"servers"`
	Endpoint              string        `yaml:"endpoint"`
	Namespace             string        `yaml:"namespace"`
	Services              []string      `yaml:"services"`
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
}

// DefaultGatewayConfig is what a gateway runs with when no file or flag
// says otherwise (servers must be given).
func DefaultGatewayConfig() GatewayConfig {
	return GatewayConfig{
		commonSettings:        defaultCommon("127.0.0.1:53"),
		Namespace:             naming.DefaultNamespace,
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
	errs = append(errs, c.commonSettings.validate()...)
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

// gatewayLayers builds a gateway's configuration (see layered).
var gatewayLayers = layered[GatewayConfig]{
	name:       "gateway",
	configHelp: "YAML config file (every key is documented in etc/sextant-gateway.yaml)",
	defaults:   DefaultGatewayConfig,
	bind:       bindGatewayFlags,
}

// gatewayFlags is the gateway's flag set over cfg, --config into config.
func gatewayFlags(cfg *GatewayConfig, config *string) *flag.FlagSet {
	return gatewayLayers.flags(cfg, config)
}

// bindGatewayFlags binds every key of a gateway's configuration to its flag.
func bindGatewayFlags(fs *flag.FlagSet, cfg *GatewayConfig) {
	cfg.commonSettings.bind(fs)
	fs.Var(listFlag{&cfg.Servers}, "servers", "comma-separated server addresses host:port (Nacos v1 HTTP API)")
	fs.StringVar(&cfg.Endpoint, "endpoint", cfg.Endpoint, "address server host[:port] answering /nacos/serverlist, used when servers is empty")
	fs.StringVar(&cfg.Namespace, "namespace", cfg.Namespace, "namespace of the services listed in services")
	fs.Var(listFlag{&cfg.Services}, "services", "comma-separated services to follow from the start (name or group@@name)")
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
}

// parseGatewayArgs reads the flags, then the config file, then applies the
// flags again so that they win over the file.
func parseGatewayArgs(args []string, stderr io.Writer) (GatewayConfig, string, error) {
	return gatewayLayers.parse(args, stderr)
}
