package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/consensus"
	"sextant/consensus/cluster"
	"sextant/consensus/nodeauth"
	"sextant/dnsfront"
	"sextant/healthcheck"
	"sextant/httpfront"
	"sextant/httpfront/auth"
	"sextant/httpfront/certs"
	"sextant/httpfront/push"
	"sextant/naming"
)

// securityDefaults are the defaults of the access-control, TLS and limit
// settings (see DefaultConfig).
func securityDefaults(c *Config) {
	c.AuthTokenTTL = auth.DefaultConfig().TokenTTL
	c.MaxInFlight = 4096
	c.MaxInstancesPerService = consensus.DefaultLimits().MaxInstancesPerService
	c.MaxServicesPerNamespace = consensus.DefaultLimits().MaxServicesPerNamespace
	c.DNSRecursionAllow = []string{"127.0.0.0/8", "::1/128"}
	c.DNSRateLimit = dnsfront.DefaultRateLimit
	c.DNSRateLimitExempt = dnsfront.DefaultConfig().RateLimitExempt
	c.MaxNamespaces = consensus.DefaultLimits().MaxNamespaces
	c.MaxConnections = httpfront.DefaultConfig().MaxConns
	c.MaxConnectionsPerIP = httpfront.DefaultConfig().MaxConnsPerIP
	c.HealthCheckAllowInternal = "auto"
	c.HealthCheckMinInterval = healthcheck.DefaultProbeConfig().MinInterval
}

// bindSecurityFlags adds the flags of those settings.
func bindSecurityFlags(fs *flag.FlagSet, v *Config) {
	fs.BoolVar(&v.AuthEnabled, "auth-enabled", v.AuthEnabled, "require a login (Nacos-compatible tokens, or username and password) on every Nacos API request")
	fs.StringVar(&v.AuthTokenSecret, "auth-token-secret", v.AuthTokenSecret, "secret (at least 32 bytes) that signs login tokens; required on cluster members with auth on; empty on a lone node: generated once into the data dir")
	fs.DurationVar(&v.AuthTokenTTL, "auth-token-ttl", v.AuthTokenTTL, "lifetime of a login token")
	fs.StringVar(&v.AuthAdminPassword, "auth-admin-password", v.AuthAdminPassword, "password of the first administrator (nacos), used once when auth is first enabled; empty: generated, logged once and written to the data dir")
	fs.StringVar(&v.TLSCertFile, "tls-cert-file", v.TLSCertFile, "PEM certificate of the HTTP API; with tls-key-file, serve HTTPS (re-read on SIGHUP)")
	fs.StringVar(&v.TLSKeyFile, "tls-key-file", v.TLSKeyFile, "PEM private key of tls-cert-file")
	fs.StringVar(&v.TLSCAFile, "tls-ca-file", v.TLSCAFile, "PEM CA certificates cluster members trust when calling each other over HTTPS (empty: the system roots)")
	fs.IntVar(&v.MaxInFlight, "max-in-flight", v.MaxInFlight, "most HTTP requests served at once; more are answered 503 at once (0: no bound)")
	fs.IntVar(&v.MaxInstancesPerService, "max-instances-per-service", v.MaxInstancesPerService, "most instances one service may hold (0: no bound)")
	fs.IntVar(&v.MaxServicesPerNamespace, "max-services-per-namespace", v.MaxServicesPerNamespace, "most services one namespace may hold (0: no bound)")
	fs.Var(listFlag{&v.DNSRecursionAllow}, "dns-recursion-allow", "comma-separated client networks (CIDR) whose queries outside the zone go to the recursors (default loopback)")
	fs.Var(listFlag{&v.PushTrustedProxies}, "push-trusted-proxies", "comma-separated networks (CIDR) of proxies whose instance/list requests may name another push address in clientIP (default none: pushes go to the request's source)")
	fs.StringVar(&v.HealthCheckAllowInternal, "health-check-allow-internal", v.HealthCheckAllowInternal, "let probes reach loopback, link-local and cloud metadata addresses: true, false, or auto (true only while http-addr is a loopback address)")
	fs.DurationVar(&v.HealthCheckMinInterval, "health-check-min-interval", v.HealthCheckMinInterval, "shortest probe interval a service or cluster may set (shorter ones are raised to it)")
	fs.IntVar(&v.DNSRateLimit, "dns-rate-limit", v.DNSRateLimit, "UDP DNS answers per second per client /24 (IPv4) or /56 (IPv6) outside dns-rate-limit-exempt; over it answers are dropped or truncated (0: off)")
	fs.Var(listFlag{&v.DNSRateLimitExempt}, "dns-rate-limit-exempt", "comma-separated client networks (CIDR) dns-rate-limit leaves alone (default loopback)")
	fs.IntVar(&v.MaxNamespaces, "max-namespaces", v.MaxNamespaces, "most namespaces, explicit or made by a first registration (0: no bound)")
	fs.IntVar(&v.MaxConnections, "max-connections", v.MaxConnections, "most open HTTP connections, idle ones included (0: no bound)")
	fs.IntVar(&v.MaxConnectionsPerIP, "max-connections-per-ip", v.MaxConnectionsPerIP, "most open HTTP connections from one address (0: no bound)")
	fs.BoolVar(&v.MetricsNamespaceLabels, "metrics-namespace-labels", v.MetricsNamespaceLabels, "label /metrics series with every namespace's name (off: public and \"other\" only, since /metrics needs no login)")
}

// errNoClusterSecret: members must share a secret, or anyone reaching the
// node-to-node paths could write to the cluster.
var errNoClusterSecret = errors.New("cluster-secret is required on a cluster member: node-to-node requests are signed with it; " +
	"make one with `head -c 32 /dev/urandom | base64` and give the same value to every member")

// validateSecurity checks those settings.
func (c Config) validateSecurity() []error {
	var errs []error
	if len(c.Members) > 1 && c.ClusterSecret == "" {
		errs = append(errs, errNoClusterSecret)
	}
	if err := c.authConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("tls-cert-file and tls-key-file go together: set both or neither"))
	}
	if c.TLSCAFile != "" && c.TLSCertFile == "" {
		errs = append(errs, errors.New("tls-ca-file is for members calling each other over HTTPS: set tls-cert-file and tls-key-file too"))
	}
	if c.MaxInFlight < 0 || c.DNSRateLimit < 0 || c.MaxConnections < 0 || c.MaxConnectionsPerIP < 0 {
		errs = append(errs, errors.New("max-in-flight, dns-rate-limit, max-connections and max-connections-per-ip must not be negative"))
	}
	switch c.HealthCheckAllowInternal {
	case "auto", "true", "false":
	default:
		errs = append(errs, fmt.Errorf("health-check-allow-internal must be auto, true or false, got %q", c.HealthCheckAllowInternal))
	}
	if _, err := c.pushTrustedProxies(); err != nil {
		errs = append(errs, err)
	}
	if err := c.limits().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("max-instances-per-service, max-services-per-namespace, max-namespaces: %w", err))
	}
	return errs
}

func (c Config) limits() consensus.Limits {
	return consensus.Limits{MaxInstancesPerService: c.MaxInstancesPerService, MaxServicesPerNamespace: c.MaxServicesPerNamespace,
		MaxNamespaces: c.MaxNamespaces}
}

func (c Config) authConfig() auth.Config {
	a := auth.DefaultConfig()
	a.Enabled, a.TokenSecret, a.TokenTTL, a.AdminPassword = c.AuthEnabled, c.AuthTokenSecret, c.AuthTokenTTL, c.AuthAdminPassword
	a.DataDir, a.Clustered = c.DataDir, c.Clustered()
	return a
}

// newGuard builds the access-control guard over the catalog.
func newGuard(cfg Config, cat *naming.Catalog, w naming.Writer, log *logrus.Logger) (*auth.Guard, error) {
	return auth.New(cfg.authConfig(), cat, w, log.WithField("component", "auth"))
}

// loadTLS loads the HTTP certificate when TLS is configured.
func loadTLS(cfg Config) (*certs.Reloader, error) {
	if cfg.TLSCertFile == "" {
		return nil, nil
	}
	return certs.NewReloader(cfg.TLSCertFile, cfg.TLSKeyFile)
}

// secureClusterHTTP switches node-to-node HTTP to https when the node
// serves TLS: members then call each other at https://, trusting
// tls-ca-file.
func secureClusterHTTP(cfg Config, ccfg *cluster.HTTPConfig) error {
	if cfg.TLSCertFile == "" {
		return nil
	}
	tc, err := certs.ClientConfig(cfg.TLSCAFile, nil)
	if err != nil {
		return err
	}
	ccfg.Scheme, ccfg.TLS = "https", tc
	return nil
}

// raftTLS is the mutual TLS of the Raft port when the node serves TLS: the
// node's certificate on both sides, peers checked against tls-ca-file (the
// system roots when empty). r reloads the certificate (SIGHUP).
func raftTLS(cfg Config) (server, client *tls.Config, r *certs.Reloader, err error) {
	if cfg.TLSCertFile == "" {
		return nil, nil, nil, nil
	}
	if r, err = certs.NewReloader(cfg.TLSCertFile, cfg.TLSKeyFile); err != nil {
		return nil, nil, nil, err
	}
	if client, err = certs.ClientConfig(cfg.TLSCAFile, r); err != nil {
		return nil, nil, nil, err
	}
	server = r.ServerConfig()
	// Members present the certificate they serve HTTPS with, often made
	// for servers only: any certificate the CA signed is accepted.
	server.ClientAuth = tls.RequireAnyClientCert
	roots := client.RootCAs
	server.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		var chain []*x509.Certificate
		for _, b := range raw {
			c, err := x509.ParseCertificate(b)
			if err != nil {
				return err
			}
			chain = append(chain, c)
		}
		if len(chain) == 0 {
			return errors.New("raft peer sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		return err
	}
	return server, client, r, nil
}

// clusterForwarder forwards CP writes to the leader with the same scheme
// and trust as the other node-to-node calls.
func clusterForwarder(cfg Config, ccfg cluster.HTTPConfig) *consensus.HTTPForwarder {
	f := consensus.NewHTTPForwarder(cfg.ClusterSecret, cfg.RaftApplyTimeout)
	if ccfg.Scheme == "https" {
		// No client timeout: each forward ends with its write's bound.
		f.Scheme = "https"
		f.Client = &http.Client{Transport: &http.Transport{TLSClientConfig: ccfg.TLS, TLSHandshakeTimeout: 5 * time.Second}}
	}
	return f
}

// pushTrustedProxies parses push-trusted-proxies.
func (c Config) pushTrustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.PushTrustedProxies {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("push-trusted-proxies: %q is not a network in CIDR form (e.g. 10.0.0.0/8)", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// signedBy is the HTTP front's check of node-to-node signature headers,
// made before a body is read; nil without a secret.
func signedBy(secret string) func(method, uri string, header func(string) string) bool {
	if secret == "" {
		return nil
	}
	return func(method, uri string, header func(string) string) bool {
		return nodeauth.CheckHeaders(secret, method, uri, header, time.Now()) == nil
	}
}

// routerConfig is the router's configuration with the configured limits.
func routerConfig(cfg Config) consensus.RouterConfig {
	r := consensus.DefaultRouterConfig()
	r.Limits = cfg.limits()
	r.ApplyTimeout = cfg.RaftApplyTimeout
	return r
}

// pushSecurity sets who may name push addresses and binds the push socket
// to the HTTP host (not every interface).
func pushSecurity(cfg Config, pc *push.Config) error {
	proxies, err := cfg.pushTrustedProxies()
	if err != nil {
		return err
	}
	pc.TrustedProxies = proxies
	if host, _, err := net.SplitHostPort(cfg.HTTPAddr); err == nil {
		pc.Listen = net.JoinHostPort(host, "0")
	}
	return nil
}

// probesAllowInternal says whether probes may reach loopback, link-local
// and metadata addresses: with "auto", only while the API listens on
// loopback alone, where every caller is local already.
func (c Config) probesAllowInternal() bool {
	switch c.HealthCheckAllowInternal {
	case "true":
		return true
	case "auto":
		host, _, err := net.SplitHostPort(c.HTTPAddr)
		ip, perr := netip.ParseAddr(host)
		return err == nil && (host == "localhost" || perr == nil && ip.IsLoopback())
	}
	return false
}
