package healthcheck

import (
	"net"
	"strconv"
	"strings"
	"time"

	"sextant/naming"
)

// Rules is how the persistent instances of one cluster are probed, with
// every layer of settings applied.
type Rules struct {
	// Type is TypeTCP, TypeHTTP or TypeNONE (no probes).
	Type               string
	Interval, Timeout  time.Duration
	UnhealthyThreshold int
	HealthyThreshold   int
	// CheckPort is probed instead of the instance's port when
	// UseInstancePort is false and CheckPort is not 0.
	CheckPort       int
	UseInstancePort bool
	// HTTP checks.
	Path    string
	Headers []naming.CheckHeader
	Codes   naming.StatusCodes
}

// Resolve returns the rules of one cluster of a service. Each setting is
// taken from the first layer that sets it validly:
//
//  1. the cluster's own settings (PUT /nacos/v1/ns/cluster; naming.CheckSettings);
//  2. the service's metadata keys naming.MetaCheckInterval,
//     naming.MetaCheckTimeout, naming.MetaCheckUnhealthyThreshold and
//     naming.MetaCheckHealthyThreshold (values out of range are ignored);
//  3. cfg, the node's configuration (TCPTimeout or HTTPTimeout by type).
//
// The interval is then raised to cfg.MinInterval (or cfg.Interval when
// that is shorter).
//
// It is a pure function of its arguments.
func Resolve(cfg ProbeConfig, meta *naming.ServiceMeta, cluster string) Rules {
	cc := meta.Cluster(cluster)
	hc := cc.HealthChecker
	r := Rules{
		Type:               strings.ToUpper(hc.Type),
		Interval:           cfg.Interval,
		UnhealthyThreshold: cfg.UnhealthyThreshold,
		HealthyThreshold:   cfg.HealthyThreshold,
		CheckPort:          cc.CheckPort,
		UseInstancePort:    cc.UseInstancePortToCheck,
	}
	switch r.Type {
	case "", TypeTCP:
		r.Type, r.Timeout = TypeTCP, cfg.TCPTimeout
	case TypeHTTP:
		r.Timeout = cfg.HTTPTimeout
		r.Path = hc.Path
		// Stored checkers were validated; a value that still fails to parse
		// falls back to the defaults (no extra headers, 200 only).
		r.Headers, _ = naming.ParseCheckHeaders(hc.Headers)
		r.Codes, _ = naming.ParseStatusCodes(hc.ExpectedCodes)
	default:
		// NONE, and any type this node does not know: no probes.
		r.Type = TypeNONE
	}
	md := meta.Metadata
	if d, ok := metaDuration(md, naming.MetaCheckInterval, naming.ValidateCheckInterval); ok {
		r.Interval = d
	}
	if d, ok := metaDuration(md, naming.MetaCheckTimeout, naming.ValidateCheckTimeout); ok {
		r.Timeout = d
	}
	if n, ok := metaStreak(md, naming.MetaCheckUnhealthyThreshold); ok {
		r.UnhealthyThreshold = n
	}
	if n, ok := metaStreak(md, naming.MetaCheckHealthyThreshold); ok {
		r.HealthyThreshold = n
	}
	cs := cc.Check
	if cs.IntervalMillis > 0 {
		r.Interval = cs.Interval()
	}
	if cs.TimeoutMillis > 0 {
		r.Timeout = cs.Timeout()
	}
	if cs.UnhealthyThreshold > 0 {
		r.UnhealthyThreshold = cs.UnhealthyThreshold
	}
	if cs.HealthyThreshold > 0 {
		r.HealthyThreshold = cs.HealthyThreshold
	}
	// Writers of a namespace may slow probes down, not speed them up past
	// the node's floor.
	if floor := min(cfg.MinInterval, cfg.Interval); r.Interval < floor {
		r.Interval = floor
	}
	return r
}

func metaDuration(md map[string]string, key string, valid func(time.Duration) error) (time.Duration, bool) {
	v, ok := md[key]
	if !ok {
		return 0, false
	}
	d, err := naming.ParseCheckDuration(v)
	if err != nil || valid(d) != nil {
		return 0, false
	}
	return d, true
}

func metaStreak(md map[string]string, key string) (int, bool) {
	v, ok := md[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || naming.ValidateCheckStreak(key, n) != nil {
		return 0, false
	}
	return n, true
}

// Target returns what to probe for one instance under these rules.
func (r *Rules) Target(in *naming.Instance) Target {
	port := in.Port
	if !r.UseInstancePort && r.CheckPort > 0 {
		port = r.CheckPort
	}
	return Target{
		Type:    r.Type,
		Addr:    net.JoinHostPort(in.IP, strconv.Itoa(port)),
		Path:    r.Path,
		Headers: r.Headers,
		Codes:   r.Codes,
		Timeout: r.Timeout,
	}
}
