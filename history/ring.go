package history

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"sextant/internal/life"
)

// Counters is what the node reports at each sample: two gauges and three
// running totals.
type Counters struct {
	Instances, Healthy int
	// Registrations, Beats and DNSQueries are totals since the node
	// started; the ring turns them into rates.
	Registrations, Beats, DNSQueries uint64
}

// Sample is one point of the history.
type Sample struct {
	// Time is when the sample was taken, Unix milliseconds.
	Time      int64 `json:"time"`
	Instances int   `json:"instances"`
	Healthy   int   `json:"healthy"`
	// Rates per second over the interval before Time.
	Registrations float64 `json:"registrations"`
	Beats         float64 `json:"beats"`
	DNSQueries    float64 `json:"dnsQueries"`
}

// Config sets how often the ring samples and how far back it keeps.
type Config struct {
	Interval time.Duration
	Span     time.Duration
}

// DefaultConfig samples every 5 s and keeps an hour (720 samples).
func DefaultConfig() Config { return Config{Interval: 5 * time.Second, Span: time.Hour} }

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Interval <= 0 {
		return fmt.Errorf("history interval must be positive, got %s", c.Interval)
	}
	if c.Span < c.Interval {
		return fmt.Errorf("history span (%s) must be at least the interval (%s)", c.Span, c.Interval)
	}
	if c.Span/c.Interval > 1<<20 {
		return errors.New("history span holds more than 1048576 samples")
	}
	return nil
}

// Ring is the history of one node.
type Ring struct {
	cfg  Config
	read func() Counters

	mu     sync.Mutex
	buf    []Sample
	next   int // where the next sample goes
	full   bool
	prev   Counters
	prevAt time.Time
	life   life.State // guarded by mu
	cancel context.CancelFunc
	done   chan struct{}
}

// New builds a ring that reads the node's counters with read.
func New(cfg Config, read func() Counters) (*Ring, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if read == nil {
		return nil, errors.New("history needs a counter source")
	}
	return &Ring{cfg: cfg, read: read, buf: make([]Sample, int(cfg.Span/cfg.Interval))}, nil
}

// Start takes a first sample and then one every Config.Interval until
// Close or the end of ctx.
func (r *Ring) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.life.CanStart("history"); err != nil {
		return err
	}
	r.life.Started()
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go r.run(ctx)
	return nil
}

func (r *Ring) run(ctx context.Context) {
	defer close(r.done)
	r.Record(time.Now(), r.read())
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.Record(now, r.read())
		}
	}
}

// Close stops sampling; the samples stay readable. It is idempotent.
func (r *Ring) Close() error {
	r.mu.Lock()
	if first, _ := r.life.End(); !first {
		r.mu.Unlock()
		return nil
	}
	cancel, done := r.cancel, r.done
	r.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return nil
}

// Record adds the sample of counters c taken at now. A time not after the
// previous sample's gives rates of 0.
func (r *Ring) Record(now time.Time, c Counters) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Sample{Time: now.UnixMilli(), Instances: c.Instances, Healthy: c.Healthy}
	if !r.prevAt.IsZero() {
		if secs := now.Sub(r.prevAt).Seconds(); secs > 0 {
			s.Registrations = rate(r.prev.Registrations, c.Registrations, secs)
			s.Beats = rate(r.prev.Beats, c.Beats, secs)
			s.DNSQueries = rate(r.prev.DNSQueries, c.DNSQueries, secs)
		}
	}
	r.prev, r.prevAt = c, now
	r.buf[r.next] = s
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
}

// rate is the increase from a to b per second over secs; 0 when the
// counter went down.
func rate(a, b uint64, secs float64) float64 {
	if b < a {
		return 0
	}
	return float64(b-a) / secs
}

// Samples returns the samples kept, oldest first.
func (r *Ring) Samples() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]Sample(nil), r.buf[:r.next]...)
	}
	out := make([]Sample, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}

// Interval is the time between samples.
func (r *Ring) Interval() time.Duration { return r.cfg.Interval }
