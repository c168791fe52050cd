package main

import (
	"context"
	"errors"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// gcTunerConfig sets how the garbage collector trades memory for CPU. The
// registry's heap is mostly long-lived instance views while every write
// allocates short-lived garbage, so a collection marks far more than it
// frees: a higher GC percent makes collections rarer. The percent used
// keeps the heap goal, live × (1 + percent/100), within HeapBudget (or
// twice the live heap, when that is more), between 100 (Go's default) and
// MaxPercent.
type gcTunerConfig struct {
	// MaxPercent is the GC percent while the live heap is small.
	MaxPercent int
	// HeapBudget is the heap goal the percent is lowered to stay within.
	HeapBudget uint64
	// Interval is how often the live heap is read.
	Interval time.Duration
}

func defaultGCTunerConfig() gcTunerConfig {
	return gcTunerConfig{MaxPercent: 400, HeapBudget: 640 << 20, Interval: time.Second}
}

func (c gcTunerConfig) Validate() error {
	switch {
	case c.MaxPercent < 100:
		return errors.New("gc tuner: max percent must be at least 100")
	case c.HeapBudget == 0:
		return errors.New("gc tuner: heap budget must be positive")
	case c.Interval <= 0:
		return errors.New("gc tuner: interval must be positive")
	}
	return nil
}

// gcPercentFor is the GC percent for a live heap of live bytes.
func gcPercentFor(cfg gcTunerConfig, live uint64) int {
	if live == 0 || live >= cfg.HeapBudget/2 {
		if live == 0 {
			return cfg.MaxPercent
		}
		return 100
	}
	p := (cfg.HeapBudget/live - 1) * 100
	if p > uint64(cfg.MaxPercent) {
		return cfg.MaxPercent
	}
	if p < 100 {
		return 100
	}
	return int(p)
}

// gcTuner sets the GC percent from the live heap, periodically.
type gcTuner struct {
	cfg     gcTunerConfig
	log     *logrus.Entry
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
	current int
}

func newGCTuner(cfg gcTunerConfig, log *logrus.Entry) (*gcTuner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &gcTuner{cfg: cfg, log: log, done: make(chan struct{})}, nil
}

// Start sets the percent for the current heap and keeps adjusting it until
// ctx ends or Close.
func (g *gcTuner) Start(ctx context.Context) error {
	ctx, g.cancel = context.WithCancel(ctx)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	g.adjust(sample)
	go func() {
		defer close(g.done)
		t := time.NewTicker(g.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				g.adjust(sample)
			}
		}
	}()
	return nil
}

func (g *gcTuner) adjust(sample []metrics.Sample) {
	metrics.Read(sample)
	var live uint64
	if sample[0].Value.Kind() == metrics.KindUint64 {
		live = sample[0].Value.Uint64()
	}
	p := gcPercentFor(g.cfg, live)
	// Small moves are not worth a change (and a log line).
	if d := p - g.current; g.current != 0 && d < 20 && d > -20 && p != 100 && p != g.cfg.MaxPercent {
		return
	}
	if p == g.current {
		return
	}
	debug.SetGCPercent(p)
	g.log.WithField("gc_percent", p).WithField("live_heap_bytes", live).Debug("gc percent set")
	g.current = p
}

// Close stops adjusting; the last percent stays. It is idempotent.
func (g *gcTuner) Close() error {
	g.once.Do(func() {
		if g.cancel != nil {
			g.cancel()
			<-g.done
		}
	})
	return nil
}
