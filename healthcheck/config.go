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
}

// DefaultConfig sweeps every second, finer than Nacos's 5 s, so that health
// flips land within a second of their due time.
func DefaultConfig() Config {
	return Config{SweepInterval: time.Second, Enabled: true}
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
	return nil
}
