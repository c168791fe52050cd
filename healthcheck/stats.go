package healthcheck

import (
	"sync/atomic"
	"time"
)

// Stats are the persistent checker's counters since it was built, for
// metrics. Counters only grow; Targets is the current number of instances
// this node probes.
type Stats struct {
	Targets int
	// Probes ended, and how many of them failed.
	Probes, Failures uint64
	// Flips written: to unhealthy and back to healthy.
	FlipsUnhealthy, FlipsHealthy uint64
	// ApplyErrors counts flips the writer refused or could not commit in
	// time; the next probe tries again.
	ApplyErrors uint64
	// Lag is the sum over all probes of how late each one started after it
	// was due. ΔLag/ΔProbes over a window is the mean start delay: it stays
	// near Tick/2 while the checker keeps up and grows once it falls behind.
	Lag time.Duration
}

type counters struct {
	probes, failures            atomic.Uint64
	flipsUnhealthy, flipsHealth atomic.Uint64
	applyErrors                 atomic.Uint64
	lag                         atomic.Int64
}

func (c *counters) snapshot(targets int) Stats {
	return Stats{
		Targets:        targets,
		Probes:         c.probes.Load(),
		Failures:       c.failures.Load(),
		FlipsUnhealthy: c.flipsUnhealthy.Load(),
		FlipsHealthy:   c.flipsHealth.Load(),
		ApplyErrors:    c.applyErrors.Load(),
		Lag:            time.Duration(c.lag.Load()),
	}
}
