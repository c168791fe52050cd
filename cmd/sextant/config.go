package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"sextant/healthcheck"
	"sextant/httpfront/push"
)

// Config is the node's whole configuration. YAML keys equal flag names;
// etc/sextant.yaml documents every key with its default.
type Config struct {
	// The DNS front and the log level, shared with the gateway.
	commonSettings `yaml:",inline"`

	HTTPAddr     string `yaml:"http-addr"`
	MaxBodyBytes int64  `yaml:"max-body-bytes"`
	// GRPCAddr is the gRPC front (Nacos 2.x clients): "" for the HTTP port
	// + 1000 on the HTTP host, "off" for none.
	GRPCAddr           string        `yaml:"grpc-addr"`
	GRPCMaxConnections int           `yaml:"grpc-max-connections"`
	DataDir            string        `yaml:"data-dir"`
	Fsync              bool          `yaml:"fsync"`
	SnapshotEvery      int           `yaml:"snapshot-every"`
	BeatSweepInterval  time.Duration `yaml:"beat-sweep-interval"`
	BeatPreserveShare  float64       `yaml:"beat-preserve-share"`
	PushEnabled        bool          `yaml:"push-enabled"`
	PushTarget         string        `yaml:"push-target"`
	PushMergeDelay     time.Duration `yaml:"push-merge-delay"`
	Members            []string      `yaml:"members"`
	ClusterConf        string        `yaml:"cluster-conf"`
	RaftAddr           string        `yaml:"raft-addr"`
	ClusterSecret      string        `yaml:"cluster-secret"`
	RaftJoin           bool          `yaml:"raft-join"`
	RaftApplyTimeout   time.Duration `yaml:"raft-apply-timeout"`
	DistroSyncDelay    time.Duration `yaml:"distro-sync-delay"`
	// MemoryBudget is the memory, in bytes, the garbage collector keeps the
	// process within while the live heap allows (gctune.go).
	MemoryBudget int64 `yaml:"memory-budget"`

	// Probes of persistent instances (healthcheck.ProbeConfig).
	HealthCheckInterval           time.Duration `yaml:"health-check-interval"`
	HealthCheckTCPTimeout         time.Duration `yaml:"health-check-tcp-timeout"`
	HealthCheckHTTPTimeout        time.Duration `yaml:"health-check-http-timeout"`
	HealthCheckUnhealthyThreshold int           `yaml:"health-check-unhealthy-threshold"`
	HealthCheckHealthyThreshold   int           `yaml:"health-check-healthy-threshold"`
	HealthCheckWorkers            int           `yaml:"health-check-workers"`
	HealthCheckAllowInternal      string        `yaml:"health-check-allow-internal"`
	HealthCheckMinInterval        time.Duration `yaml:"health-check-min-interval"`

	// Access control, TLS and limits (config_security.go).
	AuthEnabled             bool          `yaml:"auth-enabled"`
	AuthTokenSecret         string        `yaml:"auth-token-secret"`
	AuthTokenTTL            time.Duration `yaml:"auth-token-ttl"`
	AuthAdminPassword       string        `yaml:"auth-admin-password"`
	TLSCertFile             string        `yaml:"tls-cert-file"`
	TLSKeyFile              string        `yaml:"tls-key-file"`
	TLSCAFile               string        `yaml:"tls-ca-file"`
	MaxInFlight             int           `yaml:"max-in-flight"`
	MaxInstancesPerService  int           `yaml:"max-instances-per-service"`
	MaxServicesPerNamespace int           `yaml:"max-services-per-namespace"`
	DNSRecursionAllow       []string      `yaml:"dns-recursion-allow"`
	DNSRateLimit            int           `yaml:"dns-rate-limit"`
	PushTrustedProxies      []string      `yaml:"push-trusted-proxies"`
	DNSRateLimitExempt      []string      `yaml:"dns-rate-limit-exempt"`
	MaxNamespaces           int           `yaml:"max-namespaces"`
	MaxConnections          int           `yaml:"max-connections"`
	MaxConnectionsPerIP     int           `yaml:"max-connections-per-ip"`
	MetricsNamespaceLabels  bool          `yaml:"metrics-namespace-labels"`
}

// Clustered reports whether the node runs as a member of a cluster (a
// member list or a cluster.conf is given) rather than standalone.
func (c Config) Clustered() bool { return len(c.Members) > 0 || c.ClusterConf != "" }

// DefaultConfig is what a node runs with when no file or flag says otherwise:
// a standalone node on loopback.
func DefaultConfig() Config {
	c := Config{
		commonSettings: defaultCommon("127.0.0.1:8600"),

		HTTPAddr:           "127.0.0.1:8848",
		MaxBodyBytes:       1 << 20,
		GRPCMaxConnections: 20000,
		DataDir:            "./data",
		Fsync:              true,
		SnapshotEvery:      10000,
		BeatSweepInterval:  time.Second,
		BeatPreserveShare:  healthcheck.DefaultConfig().PreserveShare,
		PushEnabled:        true,
		PushTarget:         "clientIP",
		PushMergeDelay:     push.DefaultConfig().MergeDelay,
		RaftApplyTimeout:   5 * time.Second,
		DistroSyncDelay:    500 * time.Millisecond,
		MemoryBudget:       defaultMemoryBudget,

		HealthCheckInterval:           healthcheck.DefaultProbeConfig().Interval,
		HealthCheckTCPTimeout:         healthcheck.DefaultProbeConfig().TCPTimeout,
		HealthCheckHTTPTimeout:        healthcheck.DefaultProbeConfig().HTTPTimeout,
		HealthCheckUnhealthyThreshold: healthcheck.DefaultProbeConfig().UnhealthyThreshold,
		HealthCheckHealthyThreshold:   healthcheck.DefaultProbeConfig().HealthyThreshold,
		HealthCheckWorkers:            healthcheck.DefaultProbeConfig().Workers,
	}
	securityDefaults(&c)
	return c
}

// Validate checks the settings that are not checked by the components.
func (c Config) Validate() error {
	var errs []error
	if c.HTTPAddr == "" {
		errs = append(errs, errors.New("http-addr is required"))
	}
	if c.GRPCAddr != "off" {
		if _, err := c.grpcAddr(); err != nil {
			errs = append(errs, fmt.Errorf("grpc-addr: %w", err))
		}
		if c.GRPCMaxConnections <= 0 {
			errs = append(errs, errors.New("grpc-max-connections must be positive"))
		}
	}
	errs = append(errs, c.commonSettings.validate()...)
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir is required"))
	}
	if c.MemoryBudget <= 0 {
		errs = append(errs, errors.New("memory-budget must be positive"))
	}
	if c.RaftApplyTimeout <= 0 || c.RaftApplyTimeout > time.Minute {
		errs = append(errs, fmt.Errorf("raft-apply-timeout %s is out of range (0, 1m]", c.RaftApplyTimeout))
	}
	errs = append(errs, c.validateSecurity()...)
	return errors.Join(errs...)
}

// loadConfigFile reads a YAML file over cfg, a node's or a gateway's
// configuration. Unknown keys are an error, so a typo never passes silently.
func loadConfigFile[C Config | GatewayConfig](path string, cfg *C) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty file decodes to io.EOF: it means "all defaults".
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// nodeLayers builds a node's configuration (see layered).
var nodeLayers = layered[Config]{
	name:       "server",
	configHelp: "YAML config file (every key is documented in etc/sextant.yaml)",
	defaults:   DefaultConfig,
	bind:       bindNodeFlags,
}

// serverFlags holds the node's command line: its flag set (for -h and the
// errors of a bad flag) and the arguments it was given, so that the
// configuration can be built again from the same flags on SIGHUP.
type serverFlags struct {
	fs     *flag.FlagSet
	config string
	args   []string
}

func newServerFlags(name string) *serverFlags {
	f := &serverFlags{}
	vals, l := DefaultConfig(), nodeLayers
	l.name = name
	f.fs = l.flags(&vals, &f.config)
	return f
}

// bindNodeFlags binds every key of a node's configuration to its flag.
func bindNodeFlags(fs *flag.FlagSet, v *Config) {
	v.commonSettings.bind(fs)
	fs.StringVar(&v.HTTPAddr, "http-addr", v.HTTPAddr, "HTTP listen address (Nacos API)")
	fs.Int64Var(&v.MaxBodyBytes, "max-body-bytes", v.MaxBodyBytes, "largest accepted request body")
	fs.StringVar(&v.GRPCAddr, "grpc-addr", v.GRPCAddr, "gRPC listen address for Nacos 2.x clients (default: the HTTP port + 1000 on the HTTP host; off: none)")
	fs.IntVar(&v.GRPCMaxConnections, "grpc-max-connections", v.GRPCMaxConnections, "most gRPC client connections held at once; more are refused so clients try another member")
	fs.StringVar(&v.DataDir, "data-dir", v.DataDir, "directory for durable data")
	fs.BoolVar(&v.Fsync, "fsync", v.Fsync, "fsync every durable write")
	fs.IntVar(&v.SnapshotEvery, "snapshot-every", v.SnapshotEvery, "compact the log after this many records")
	fs.Int64Var(&v.MemoryBudget, "memory-budget", v.MemoryBudget, "bytes of memory the garbage collector keeps the process within while the live heap allows; more spends less CPU on collections")
	fs.DurationVar(&v.BeatSweepInterval, "beat-sweep-interval", v.BeatSweepInterval, "how often beat timeouts are checked")
	fs.Float64Var(&v.BeatPreserveShare, "beat-preserve-share", v.BeatPreserveShare, "self-preservation: while a member is unreachable, a beat sweep removing more than this share of a service's (or all) instances removes none; 0 turns it off")
	fs.DurationVar(&v.HealthCheckInterval, "health-check-interval", v.HealthCheckInterval, "default time between two probes of a persistent instance")
	fs.DurationVar(&v.HealthCheckTCPTimeout, "health-check-tcp-timeout", v.HealthCheckTCPTimeout, "default TCP probe (connect) timeout")
	fs.DurationVar(&v.HealthCheckHTTPTimeout, "health-check-http-timeout", v.HealthCheckHTTPTimeout, "default HTTP probe timeout")
	fs.IntVar(&v.HealthCheckUnhealthyThreshold, "health-check-unhealthy-threshold", v.HealthCheckUnhealthyThreshold, "default number of consecutive failed probes that mark an instance unhealthy")
	fs.IntVar(&v.HealthCheckHealthyThreshold, "health-check-healthy-threshold", v.HealthCheckHealthyThreshold, "default number of consecutive good probes that mark an instance healthy")
	fs.IntVar(&v.HealthCheckWorkers, "health-check-workers", v.HealthCheckWorkers, "probes run at once")
	fs.BoolVar(&v.PushEnabled, "push-enabled", v.PushEnabled, "UDP push to subscribers")
	fs.StringVar(&v.PushTarget, "push-target", v.PushTarget, "push to the subscriber's clientIP parameter (clientIP) or to the request's source address (source)")
	fs.DurationVar(&v.PushMergeDelay, "push-merge-delay", v.PushMergeDelay, "shortest time between two pushes of one service; a change after a quiet spell is pushed at once")
	fs.Var(listFlag{&v.Members}, "members", "comma-separated HTTP addresses of every cluster member, this node included (empty: standalone)")
	fs.StringVar(&v.ClusterConf, "cluster-conf", v.ClusterConf, "Nacos cluster.conf file listing the members; re-read when it changes")
	fs.StringVar(&v.RaftAddr, "raft-addr", v.RaftAddr, "address the Raft transport binds (default: this node's HTTP port minus 1000)")
	fs.StringVar(&v.ClusterSecret, "cluster-secret", v.ClusterSecret, "shared secret that signs node-to-node requests and the Raft handshake; required on a member of a cluster of several (head -c 32 /dev/urandom | base64)")
	fs.DurationVar(&v.DistroSyncDelay, "distro-sync-delay", v.DistroSyncDelay, "how long changes of ephemeral instances wait before they are sent to the other members (bounds how late their subscribers hear of them)")
	fs.BoolVar(&v.RaftJoin, "raft-join", v.RaftJoin, "this node is added to a running cluster: never bootstrap Raft, wait to be added by the leader")
	fs.DurationVar(&v.RaftApplyTimeout, "raft-apply-timeout", v.RaftApplyTimeout, "a CP write answers within this time wherever it entered, forward to the leader included")
	bindSecurityFlags(fs, v)
}

// parse reads args (a bad flag or -h reports on the flag set's output),
// then builds the configuration from them.
func (f *serverFlags) parse(args []string) (Config, error) {
	if err := f.fs.Parse(args); err != nil {
		return Config{}, err
	}
	f.args = args
	return f.reparse()
}

// reparse builds the configuration again from the same flags and the
// current content of the config file (for SIGHUP).
func (f *serverFlags) reparse() (Config, error) {
	return nodeLayers.build(f.args, f.config)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
