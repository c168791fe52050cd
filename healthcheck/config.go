package healthcheck

import (
	"fmt"
	"time"
)

// Config configures a BeatChecker.
type Config struct {
	// SweepInterval is how often instances are checked. An instance flips
	// at most one interval after its timeout passes.
	SweepInterval time.Duration `yaml:"sweep-interval"`
	// Enabled turns the checker on; when false, Start and Sweep do nothing.
	Enabled bool `yaml:"enabled"`
	// SelfPreservation holds back removals while a member is unreachable:
	// a sweep that would remove more than PreserveShare of a service's
	// ephemeral instances, or of all the ephemeral instances this node
	// judges, removes none of them (they are marked unhealthy instead), and
	// says so in the log and in BeatStats.Held. Clients that beat through
	// the unreachable members are then not deleted for the length of a
	// partition. Off, removals never wait.
	SelfPreservation bool `yaml:"self-preservation"`
	// PreserveShare is the largest share (0 to 1) of instances one sweep
	// may remove while a member is unreachable.
	PreserveShare float64 `yaml:"preserve-share"`
	// EmptyServiceGrace is how long a service created by a registration
	// (implicit) may stay without any instance before it is deleted: by
	// every node from its own memory when its record is not durable, by
	// the node that owns it through the writer (Raft) when it is (see the
	// package documentation); 0 keeps empty services.
	EmptyServiceGrace time.Duration `yaml:"empty-service-grace"`
}

// DefaultConfig sweeps every second, finer than Nacos's 5 s, so that health
// flips land within a second of their due time, and holds back removals of
// more than a quarter of a service's instances while a member is
// unreachable.
func DefaultConfig() Config {
	return Config{SweepInterval: time.Second, Enabled: true, SelfPreservation: true, PreserveShare: 0.25, EmptyServiceGrace: time.Minute}
}

// Limits on SweepInterval.
const (
	MinSweepInterval = 10 * time.Millisecond
	MaxSweepInterval = time.Minute
)

// Validate checks the settings.
func (c Config) Validate() error {
	if c.SweepInterval < MinSweepInterval || c.SweepInterval > MaxSweepInterval {
		return fmt.Errorf("healthcheck: sweep interval %v is out of range [%v, %v]", c.SweepInterval, MinSweepInterval, MaxSweepInterval)
	}
	if c.EmptyServiceGrace < 0 || c.EmptyServiceGrace > 24*time.Hour {
		return fmt.Errorf("healthcheck: empty service grace %v is out of range [0, 24h]", c.EmptyServiceGrace)
	}
	if c.PreserveShare < 0 || c.PreserveShare > 1 {
		return fmt.Errorf("healthcheck: preserve share %v is out of range [0, 1]", c.PreserveShare)
	}
	return nil
}
