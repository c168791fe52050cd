package healthcheck

import (
	"errors"
	"fmt"
	"time"

	"sextant/naming"
)

// ProbeConfig configures a PersistentChecker. Interval, the timeouts and
// the thresholds are defaults: a service's metadata and a cluster's
// settings override them (see Resolve).
type ProbeConfig struct {
	// Enabled turns the checker on; when false, Start does nothing.
	Enabled bool `yaml:"enabled"`
	// Interval is the default time between two probes of one instance.
	Interval time.Duration `yaml:"interval"`
	// TCPTimeout and HTTPTimeout are the default bounds of one probe.
	TCPTimeout  time.Duration `yaml:"tcp-timeout"`
	HTTPTimeout time.Duration `yaml:"http-timeout"`
	// UnhealthyThreshold and HealthyThreshold are the default numbers of
	// consecutive failed / good probes that flip an instance.
	UnhealthyThreshold int `yaml:"unhealthy-threshold"`
	HealthyThreshold   int `yaml:"healthy-threshold"`
	// Workers is how many probes run at once on this node.
	Workers int `yaml:"workers"`
	// Tick is how often due probes are started; a probe starts at most one
	// tick after it is due (when a worker is free).
	Tick time.Duration `yaml:"tick"`
	// Rescan is how often the whole catalog is read again to follow
	// ownership; changes to services are followed at the next tick.
	Rescan time.Duration `yaml:"rescan"`
	// ApplyTimeout bounds the write of one health flip.
	ApplyTimeout time.Duration `yaml:"apply-timeout"`
	// AllowInternal lets probes reach loopback, link-local and cloud
	// metadata addresses (internal.go); off, such probes fail at once.
	AllowInternal bool `yaml:"allow-internal"`
	// MinInterval is the shortest interval a service or cluster may set
	// (shorter ones are raised to it); Interval, the node's own default,
	// may be shorter, and then bounds it instead.
	MinInterval time.Duration `yaml:"min-interval"`
}

// DefaultProbeConfig probes every 20 s with a 500 ms TCP connect timeout
// (2 s for HTTP); one failed probe marks an instance unhealthy and one good
// probe marks it healthy again, as the seed describes. A host that drops
// packets holds a worker for a whole timeout: 256 workers keep up with
// about 10,000 such instances at the default 20 s and 500 ms (2,500 at a
// 5 s interval), beside the instances that answer or refuse at once.
func DefaultProbeConfig() ProbeConfig {
	return ProbeConfig{
		Enabled:            true,
		Interval:           naming.DefaultCheckInterval,
		TCPTimeout:         naming.DefaultTCPCheckTimeout,
		HTTPTimeout:        naming.DefaultHTTPCheckTimeout,
		UnhealthyThreshold: naming.DefaultUnhealthyThreshold,
		HealthyThreshold:   naming.DefaultHealthyThreshold,
		Workers:            256,
		Tick:               50 * time.Millisecond,
		Rescan:             time.Second,
		ApplyTimeout:       5 * time.Second,
		MinInterval:        time.Second,
	}
}

// MaxWorkers bounds ProbeConfig.Workers.
const MaxWorkers = 4096

// Validate checks the settings.
func (c ProbeConfig) Validate() error {
	var errs []error
	wrap := func(err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("healthcheck: %w", err))
		}
	}
	wrap(naming.ValidateCheckInterval(c.Interval))
	wrap(naming.ValidateCheckTimeout(c.TCPTimeout))
	wrap(naming.ValidateCheckTimeout(c.HTTPTimeout))
	wrap(naming.ValidateCheckStreak("unhealthyThreshold", c.UnhealthyThreshold))
	wrap(naming.ValidateCheckStreak("healthyThreshold", c.HealthyThreshold))
	if c.Workers < 1 || c.Workers > MaxWorkers {
		errs = append(errs, fmt.Errorf("healthcheck: workers %d is out of range [1, %d]", c.Workers, MaxWorkers))
	}
	if c.Tick < MinSweepInterval || c.Tick > time.Second {
		errs = append(errs, fmt.Errorf("healthcheck: tick %v is out of range [%v, 1s]", c.Tick, MinSweepInterval))
	}
	if c.Rescan < c.Tick || c.Rescan > time.Minute {
		errs = append(errs, fmt.Errorf("healthcheck: rescan %v is out of range [tick, 1m]", c.Rescan))
	}
	if c.ApplyTimeout <= 0 || c.ApplyTimeout > time.Minute {
		errs = append(errs, fmt.Errorf("healthcheck: apply timeout %v is out of range (0, 1m]", c.ApplyTimeout))
	}
	return errors.Join(errs...)
}
