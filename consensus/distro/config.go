package distro

import (
	"fmt"
	"time"
)

// Config configures an Engine.
type Config struct {
	// SyncDelay is how long after the first change of a quiet period the
	// changed services are sent to the peers; later changes in the window
	// ride along (the deadline is not pushed back).
	SyncDelay time.Duration `yaml:"sync-delay"`
	// SyncTimeout bounds one sync, verify or fetch exchange.
	SyncTimeout time.Duration `yaml:"sync-timeout"`
	// RetryInterval is the pause before a failed sync to a live peer is
	// tried again, and before Load asks again when no peer answered.
	RetryInterval time.Duration `yaml:"retry-interval"`
	// VerifyInterval is how often a node sends the checksums of the
	// services it owns to every live peer.
	VerifyInterval time.Duration `yaml:"verify-interval"`
	// LoadTimeout bounds Load: after it the node is ready with whatever it has.
	LoadTimeout time.Duration `yaml:"load-timeout"`
	// ForwardTimeout bounds a write forwarded to the responsible node.
	ForwardTimeout time.Duration `yaml:"forward-timeout"`
	// TombstoneTTL is how long a deregistration is remembered, so that an
	// older copy of the instance arriving late cannot bring it back.
	TombstoneTTL time.Duration `yaml:"tombstone-ttl"`
	// QueuedGrace is how long verify leaves a service whose copy on a peer
	// differs, while changes of it wait to be sent to that peer, to the
	// sync: under constant writes a copy always lags a little, and
	// repairing it would send whole records for nothing. After QueuedGrace
	// it is repaired anyway.
	QueuedGrace time.Duration `yaml:"queued-grace"`
	// OrphanGrace is the number of verify rounds a node keeps data for a
	// service whose owner keeps not listing it (and fails to take it over).
	OrphanGrace int `yaml:"orphan-grace"`
	// MaxBatch is the largest number of services in one sync or fetch message.
	MaxBatch int `yaml:"max-batch"`
	// BeatMarkInterval is how often the responsible node records a beat
	// of a healthy instance as a replicated change (its beat mark): at
	// most once per instance per interval. After a partition, an instance
	// whose responsible node saw beats wins over an expiry decided on the
	// other side; the interval must stay well below the gap between the
	// beat timeout and the delete timeout (15 s by default).
	BeatMarkInterval time.Duration `yaml:"beat-mark-interval"`
	// NoticeLinger is how long beat notices (beats the receiving node
	// answered at once, see noticeBeat) wait for company before they are
	// sent to the responsible node, counted from the first of them: a
	// write whose caller waits, or a full message, sends them at once.
	// Without it a node at a few thousand beats per second sent one or
	// two notices per message, a node-to-node round trip per beat. Zero
	// sends each at once. It must stay far below the beat timeout.
	NoticeLinger time.Duration `yaml:"notice-linger"`
	// Now is the engine's clock for stamps and judgements; nil for
	// time.Now. (Stall detection always uses the monotonic clock.)
	Now func() time.Time `yaml:"-"`
}

// DefaultConfig uses Nacos's timings: sync after 1 s, verify every 5 s,
// forwards bounded by 2 s, deregistrations remembered for 3 minutes.
func DefaultConfig() Config {
	return Config{
		SyncDelay:      time.Second,
		SyncTimeout:    3 * time.Second,
		RetryInterval:  3 * time.Second,
		VerifyInterval: 5 * time.Second,
		LoadTimeout:    10 * time.Second,
		ForwardTimeout: 2 * time.Second,
		TombstoneTTL:   3 * time.Minute,
		QueuedGrace:    time.Minute,
		OrphanGrace:    3,
		MaxBatch:       500,

		BeatMarkInterval: 5 * time.Second,
		NoticeLinger:     20 * time.Millisecond,
	}
}

// Validate checks ranges and the relations between the settings.
func (c Config) Validate() error {
	checks := []struct {
		name     string
		v        time.Duration
		min, max time.Duration
	}{
		{"sync delay", c.SyncDelay, 0, time.Minute},
		{"sync timeout", c.SyncTimeout, time.Millisecond, time.Minute},
		{"retry interval", c.RetryInterval, time.Millisecond, time.Hour},
		{"verify interval", c.VerifyInterval, time.Millisecond, time.Hour},
		{"load timeout", c.LoadTimeout, 0, time.Hour},
		{"forward timeout", c.ForwardTimeout, time.Millisecond, time.Minute},
		{"tombstone ttl", c.TombstoneTTL, time.Second, 24 * time.Hour},
		{"queued grace", c.QueuedGrace, 0, time.Hour},
		{"beat mark interval", c.BeatMarkInterval, time.Millisecond, time.Hour},
		{"notice linger", c.NoticeLinger, 0, time.Second},
	}
	for _, ch := range checks {
		if ch.v < ch.min || ch.v > ch.max {
			return fmt.Errorf("distro: %s %v is out of range [%v, %v]", ch.name, ch.v, ch.min, ch.max)
		}
	}
	if c.OrphanGrace < 1 {
		return fmt.Errorf("distro: orphan grace must be at least 1 round, got %d", c.OrphanGrace)
	}
	if c.MaxBatch < 1 || c.MaxBatch > 100000 {
		return fmt.Errorf("distro: max batch %d is out of range [1, 100000]", c.MaxBatch)
	}
	if c.TombstoneTTL < 2*c.VerifyInterval+c.QueuedGrace {
		return fmt.Errorf("distro: tombstone ttl %v must cover at least two verify rounds (%v) and the queued grace (%v)", c.TombstoneTTL, c.VerifyInterval, c.QueuedGrace)
	}
	return nil
}
