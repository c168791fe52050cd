package consensus

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// StandaloneConfig configures the single-node writer.
type StandaloneConfig struct {
	// DataDir holds the log and the snapshot; it is created if missing.
	DataDir string `yaml:"data-dir"`
	// Self is this node's HTTP address (host:port), reported by Members and Leader.
	Self string `yaml:"self"`
	// SnapshotEvery compacts the log into a snapshot after this many records.
	SnapshotEvery int `yaml:"snapshot-every"`
	// Sync fsyncs the log before a CP write is acknowledged. Without it an
	// acknowledged write survives a crash of the process but not of the machine.
	Sync bool `yaml:"fsync"`
	// Now is the clock that stamps ops whose Time is zero; nil means time.Now.
	Now func() time.Time `yaml:"-"`
	// Limits bound instances per service and services per namespace.
	Limits Limits `yaml:"-"`
}

// DefaultStandaloneConfig keeps data in ./data, fsyncs every CP write and
// compacts every 10000 records.
func DefaultStandaloneConfig() StandaloneConfig {
	return StandaloneConfig{DataDir: "./data", Self: "127.0.0.1:8848", SnapshotEvery: 10000, Sync: true, Limits: DefaultLimits()}
}

// Validate checks the settings.
func (c StandaloneConfig) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data dir is required"))
	}
	if _, port, err := net.SplitHostPort(c.Self); err != nil || port == "" {
		errs = append(errs, fmt.Errorf("self address %q is not host:port", c.Self))
	}
	if err := c.Limits.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.SnapshotEvery < 1 {
		errs = append(errs, fmt.Errorf("snapshot-every must be at least 1, got %d", c.SnapshotEvery))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("standalone: %w", err)
	}
	return nil
}
