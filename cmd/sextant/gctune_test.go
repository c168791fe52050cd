package main

import (
	"context"
	"math"
	"runtime/debug"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

func TestGCPercentFor(t *testing.T) {
	cfg := gcTunerConfig{MaxPercent: 400, MinPercent: 25, Budget: 1000, Interval: time.Second}
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 400},    // nothing measured yet
		{100, 400},  // goal 1000 would allow 900%: capped
		{200, 400},  // goal exactly the budget
		{250, 300},  // 250 × 4 = 1000
		{400, 100},  // 1000/400 truncates to 2: goal 800
		{500, 100},  // half the budget: Go's default
		{5000, 100}, // far over: never below 100
	} {
		got := gcPercentFor(cfg, c.live)
		if got != c.want {
			t.Errorf("live %d: percent %d, want %d", c.live, got, c.want)
		}
		if c.live > 0 && c.live < cfg.Budget/2 && c.live*uint64(100+got)/100 > cfg.Budget {
			t.Errorf("live %d: goal over the budget at %d%%", c.live, got)
		}
	}
}

// The limit is the budget until the live heap would have less than
// MinPercent of room under it; then it follows the live heap.
func TestMemoryLimitFor(t *testing.T) {
	cfg := gcTunerConfig{MaxPercent: 400, MinPercent: 25, Budget: 4000, Interval: time.Second}
	for _, c := range []struct {
		live, other uint64
		want        int64
	}{
		{0, 0, 4000},
		{1000, 100, 4000},                 // a small heap: the budget
		{3000, 200, 4000},                 // 3000 + 750 + 200 = 3950: still the budget
		{3200, 200, 4200},                 // 3200 + 800 + 200: past the budget
		{10000, 500, 13000},               // far past: 25% room above the live heap
		{1 << 62, 1 << 62, math.MaxInt64}, // no overflow
	} {
		if got := memoryLimitFor(cfg, c.live, c.other); got != c.want {
			t.Errorf("live %d, other %d: limit %d, want %d", c.live, c.other, got, c.want)
		}
	}
}

func TestGCTunerConfigValidate(t *testing.T) {
	if err := defaultGCTunerConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []gcTunerConfig{
		{MaxPercent: 50, MinPercent: 25, Budget: 1, Interval: time.Second},
		{MaxPercent: 200, MinPercent: 0, Budget: 1, Interval: time.Second},
		{MaxPercent: 200, MinPercent: 300, Budget: 1, Interval: time.Second},
		{MaxPercent: 200, MinPercent: 25, Budget: 0, Interval: time.Second},
		{MaxPercent: 200, MinPercent: 25, Budget: 1, Interval: 0},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v: accepted", c)
		}
	}
}

func TestGCTunerStartClose(t *testing.T) {
	g, err := newGCTuner(gcTunerConfig{MaxPercent: 100, MinPercent: 25, Budget: 1 << 40, Interval: time.Millisecond},
		logrus.NewEntry(logrus.New()))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if g.current != 100 {
		t.Fatalf("percent after start %d, want 100", g.current)
	}
	// The budget is far above anything this test holds: the limit is it.
	if g.limit != 1<<40 || debug.SetMemoryLimit(-1) != 1<<40 {
		t.Fatalf("memory limit after start %d, want the budget", g.limit)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}
