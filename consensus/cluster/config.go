package cluster

import (
	"errors"
	"fmt"
	"time"
)

// Config configures a Membership.
type Config struct {
	// Self is this node's HTTP address, host:port, as the other members list it.
	Self string `yaml:"self"`
	// Members is the static member list (--members h1:p1,h2:p2). Set either
	// Members or File.
	Members []string `yaml:"members"`
	// File is a Nacos cluster.conf path. It is re-read when it changes.
	File string `yaml:"cluster-conf"`
	// ReportInterval is how often this node reports to every other member.
	ReportInterval time.Duration `yaml:"report-interval"`
	// ReportTimeout bounds one report.
	ReportTimeout time.Duration `yaml:"report-timeout"`
	// SuspectAfter and DownAfter count consecutive failed reports that make
	// a member SUSPICIOUS and DOWN.
	SuspectAfter int `yaml:"suspect-after"`
	DownAfter    int `yaml:"down-after"`
	// FilePollInterval is how often File is checked for changes.
	FilePollInterval time.Duration `yaml:"file-poll-interval"`
	// Now is the clock the membership measures time with (nil: time.Now).
	// Only durations it measures matter, so its offset is irrelevant; its
	// rate may be off by the margin DownTime leaves above Lease.
	Now func() time.Time `yaml:"-"`
	// Progress, when set, tells the others in each report how far this
	// node has committed the replicated log while it leads it (0 when it
	// does not), so that a member starting up can tell when it has caught
	// up (Membership.PeerProgress).
	Progress func() uint64 `yaml:"-"`
}

// DownTime is the least time a member goes without a successful exchange
// with this node before this node's failures make it DOWN (a refused
// connection, with no process there, needs no time): DownAfter report
// intervals, less half an interval for the jitter of the rounds.
func (c Config) DownTime() time.Duration {
	return time.Duration(c.DownAfter)*c.ReportInterval - c.ReportInterval/2
}

// Lease is how long a report a majority took keeps this node agreed
// (Membership.Agreed): four fifths of DownTime, so that a node cut off
// stops judging at least DownTime/5 before the others can count it DOWN
// and take its services over, whatever the nodes' clocks read and with
// room for their rates to differ and for a sweep under way.
func (c Config) Lease() time.Duration { return c.DownTime() * 4 / 5 }

// DefaultConfig reports every second and marks a silent member DOWN after
// three missed reports.
func DefaultConfig() Config {
	return Config{
		ReportInterval:   time.Second,
		ReportTimeout:    800 * time.Millisecond,
		SuspectAfter:     1,
		DownAfter:        3,
		FilePollInterval: 2 * time.Second,
	}
}

// Validate checks the settings; it does not read File.
func (c Config) Validate() error {
	switch {
	case c.Self == "":
		return errors.New("cluster: self address is required")
	case len(c.Members) > 0 && c.File != "":
		return errors.New("cluster: set either a member list or a cluster.conf file, not both")
	case len(c.Members) == 0 && c.File == "":
		return errors.New("cluster: a member list or a cluster.conf file is required")
	case c.ReportInterval < time.Millisecond || c.ReportInterval > time.Minute:
		return fmt.Errorf("cluster: report interval %v is out of range [1ms, 1m]", c.ReportInterval)
	case c.ReportTimeout <= 0 || c.ReportTimeout > time.Minute:
		return fmt.Errorf("cluster: report timeout %v is out of range (0, 1m]", c.ReportTimeout)
	case c.SuspectAfter < 1:
		return fmt.Errorf("cluster: suspect-after must be at least 1, got %d", c.SuspectAfter)
	case c.DownAfter < 2:
		return fmt.Errorf("cluster: down-after must be at least 2 (a node's lease must outlast one lost report), got %d", c.DownAfter)
	case c.DownAfter < c.SuspectAfter:
		return fmt.Errorf("cluster: down-after (%d) must not be below suspect-after (%d)", c.DownAfter, c.SuspectAfter)
	case c.File != "" && (c.FilePollInterval < time.Millisecond || c.FilePollInterval > time.Hour):
		return fmt.Errorf("cluster: file poll interval %v is out of range [1ms, 1h]", c.FilePollInterval)
	}
	if _, err := NormalizeAddr(c.Self); err != nil {
		return fmt.Errorf("cluster: self: %w", err)
	}
	return nil
}
