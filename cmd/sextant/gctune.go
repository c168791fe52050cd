package main

import (
	"context"
	"errors"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// gcTunerConfig sets how the garbage collector trades memory for CPU. The
// registry's heap is mostly long-lived instance views while every write
// allocates short-lived garbage, so a collection marks far more than it
// frees: a higher GC percent makes collections rarer. Two settings keep the
// process within Budget:
//
//   - the GC percent keeps the heap goal, live × (1 + percent/100), within
//     Budget, between 100 (Go's default) and MaxPercent, so a small
//     registry collects rarely;
//   - a soft memory limit (runtime/debug.SetMemoryLimit) of Budget holds
//     the whole of the runtime's memory there once the live heap passes
//     half of it, where a percent of 100 alone would let it grow to twice
//     the live heap.
//
// The limit never leaves less than MinPercent of the live heap to grow into
// before a collection: past Budget it rises with the live heap, so a
// registry larger than its budget pays at most the CPU of GC percent
// MinPercent, never a collector that runs without pause.
type gcTunerConfig struct {
	// MaxPercent is the GC percent while the live heap is small.
	MaxPercent int
	// MinPercent is the least room, in percent of the live heap, the memory
	// limit leaves above it.
	MinPercent int
	// Budget is the memory, in bytes, the runtime is kept within while the
	// live heap allows.
	Budget uint64
	// Interval is how often the live heap is read.
	Interval time.Duration
}

// defaultMemoryBudget is the default of the memory-budget key: a node with
// 1,000,000 ephemeral instances fits it, and the process (whose resident
// memory adds the binary's own pages to what the runtime counts) stays
// under 400 MiB.
const defaultMemoryBudget = 368 << 20

func defaultGCTunerConfig() gcTunerConfig {
	return gcTunerConfig{MaxPercent: 400, MinPercent: 25, Budget: defaultMemoryBudget, Interval: time.Second}
}

func (c gcTunerConfig) Validate() error {
	switch {
	case c.MaxPercent < 100:
		return errors.New("gc tuner: max percent must be at least 100")
	case c.MinPercent <= 0 || c.MinPercent > c.MaxPercent:
		return errors.New("gc tuner: min percent must be positive and at most the max percent")
	case c.Budget == 0:
		return errors.New("gc tuner: memory budget must be positive")
	case c.Interval <= 0:
		return errors.New("gc tuner: interval must be positive")
	}
	return nil
}

// gcPercentFor is the GC percent for a live heap of live bytes.
func gcPercentFor(cfg gcTunerConfig, live uint64) int {
	if live == 0 {
		return cfg.MaxPercent
	}
	if live >= cfg.Budget/2 {
		return 100
	}
	p := (cfg.Budget/live - 1) * 100
	if p > uint64(cfg.MaxPercent) {
		return cfg.MaxPercent
	}
	if p < 100 {
		return 100
	}
	return int(p)
}

// memoryLimitFor is the soft memory limit for a live heap of live bytes
// when the runtime holds other bytes outside the heap's objects and spans
// (stacks, GC metadata, its own structures): Budget, or, when that would
// leave the heap less than MinPercent of room, what leaves it that room.
func memoryLimitFor(cfg gcTunerConfig, live, other uint64) int64 {
	floor := live + live/100*uint64(cfg.MinPercent) + other
	limit := max(cfg.Budget, floor)
	if limit > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(limit)
}

// gcTuner sets the GC percent and the memory limit from the live heap,
// periodically.
type gcTuner struct {
	cfg     gcTunerConfig
	log     *logrus.Entry
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
	current int
	limit   int64
}

func newGCTuner(cfg gcTunerConfig, log *logrus.Entry) (*gcTuner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &gcTuner{cfg: cfg, log: log, done: make(chan struct{})}, nil
}

// Start sets the percent and limit for the current heap and keeps adjusting
// them until ctx ends or Close.
func (g *gcTuner) Start(ctx context.Context) error {
	ctx, g.cancel = context.WithCancel(ctx)
	// The live heap, then what the memory limit counts: total − released,
	// and the heap's parts of it.
	sample := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}
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
	v := make([]uint64, len(sample))
	for i := range sample {
		if sample[i].Value.Kind() == metrics.KindUint64 {
			v[i] = sample[i].Value.Uint64()
		}
	}
	live := v[0]
	// What the limit counts (total − released) beyond the heap's spans.
	var other uint64
	if heap := v[2] + v[3] + v[4] + v[5]; v[1] > heap {
		other = v[1] - heap
	}
	if l := memoryLimitFor(g.cfg, live, other); l != g.limit {
		debug.SetMemoryLimit(l)
		g.limit = l
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
	g.log.WithField("gc_percent", p).WithField("live_heap_bytes", live).WithField("memory_limit_bytes", g.limit).Debug("gc percent set")
	g.current = p
}

// Close stops adjusting; the last percent and limit stay. It is idempotent.
func (g *gcTuner) Close() error {
	g.once.Do(func() {
		if g.cancel != nil {
			g.cancel()
			<-g.done
		}
	})
	return nil
}
