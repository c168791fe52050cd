package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/dnsfront"
)

// commonSettings are the keys a node and a gateway share: the DNS front
// and the log level. Both embed it inline, so the keys stand at the top
// level of either YAML file, and both bind, default and check them here.
type commonSettings struct {
	DNSAddr        string        `yaml:"dns-addr"`
	DNSZone        string        `yaml:"dns-zone"`
	DNSTTL         time.Duration `yaml:"dns-ttl"`
	DNSNegativeTTL time.Duration `yaml:"dns-negative-ttl"`
	DNSRecursors   []string      `yaml:"dns-recursors"`
	DNSMaxUDPSize  int           `yaml:"dns-max-udp-size"`
	LogLevel       string        `yaml:"log-level"`
}

// defaultCommon is the default of the shared keys; only where DNS listens
// differs between a node and a gateway.
func defaultCommon(dnsAddr string) commonSettings {
	return commonSettings{
		DNSAddr:        dnsAddr,
		DNSZone:        "nacos.",
		DNSTTL:         5 * time.Second,
		DNSNegativeTTL: 5 * time.Second,
		DNSMaxUDPSize:  1232,
		LogLevel:       "info",
	}
}

// bind adds the flags of the shared keys.
func (c *commonSettings) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.DNSAddr, "dns-addr", c.DNSAddr, "DNS listen address, UDP and TCP")
	fs.StringVar(&c.DNSZone, "dns-zone", c.DNSZone, "DNS zone served")
	fs.DurationVar(&c.DNSTTL, "dns-ttl", c.DNSTTL, "TTL of DNS answers")
	fs.DurationVar(&c.DNSNegativeTTL, "dns-negative-ttl", c.DNSNegativeTTL, "TTL of negative DNS answers (SOA minimum)")
	fs.Var(listFlag{&c.DNSRecursors}, "dns-recursors", "comma-separated upstream resolvers for names outside the zone")
	fs.IntVar(&c.DNSMaxUDPSize, "dns-max-udp-size", c.DNSMaxUDPSize, "largest UDP DNS answer")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
}

// validate checks the shared keys.
func (c commonSettings) validate() []error {
	var errs []error
	if c.DNSAddr == "" {
		errs = append(errs, errors.New("dns-addr is required"))
	}
	if _, err := logrus.ParseLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("log-level: %w", err))
	}
	return errs
}

// dnsConfig is the DNS front's configuration with the shared keys applied.
func (c commonSettings) dnsConfig() dnsfront.Config {
	d := dnsfront.DefaultConfig()
	d.Addr, d.Zone, d.TTL, d.NegativeTTL = c.DNSAddr, c.DNSZone, c.DNSTTL, c.DNSNegativeTTL
	d.Recursors, d.MaxUDPSize = c.DNSRecursors, c.DNSMaxUDPSize
	return d
}

// layered is how a node and a gateway build their configuration: the
// defaults, then the YAML file, then the flags given on the command line,
// so that a flag given wins over the file and one left out changes
// nothing. Building again from the same arguments re-reads the file (the
// reload on SIGHUP).
type layered[C interface {
	Config | GatewayConfig
	Validate() error
}] struct {
	name       string
	configHelp string
	defaults   func() C
	bind       func(fs *flag.FlagSet, cfg *C)
}

// flags declares --config into path and every key's flag over cfg.
func (l layered[C]) flags(cfg *C, path *string) *flag.FlagSet {
	fs := flag.NewFlagSet(l.name, flag.ContinueOnError)
	fs.StringVar(path, "config", "", l.configHelp)
	l.bind(fs, cfg)
	return fs
}

// parse reads args once to find the config file (errors and -h go to
// stderr), then builds the configuration.
func (l layered[C]) parse(args []string, stderr io.Writer) (C, string, error) {
	var path string
	scratch := l.defaults()
	fs := l.flags(&scratch, &path)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		var zero C
		return zero, "", err
	}
	cfg, err := l.build(args, path)
	return cfg, path, err
}

// build is the defaults, the file at path (if any) and the flags in args,
// checked.
func (l layered[C]) build(args []string, path string) (C, error) {
	var zero C
	cfg := l.defaults()
	if path != "" {
		if err := loadConfigFile(path, &cfg); err != nil {
			return zero, err
		}
	}
	var ignored string
	fs := l.flags(&cfg, &ignored)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return zero, err
	}
	if fs.NArg() > 0 {
		return zero, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return cfg, cfg.Validate()
}
