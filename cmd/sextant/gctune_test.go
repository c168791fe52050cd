package main

import (
	"context"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

func TestGCPercentFor(t *testing.T) {
	cfg := gcTunerConfig{MaxPercent: 400, HeapBudget: 1000, Interval: time.Second}
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
		if c.live > 0 && c.live < cfg.HeapBudget/2 && c.live*uint64(100+got)/100 > cfg.HeapBudget {
			t.Errorf("live %d: goal over the budget at %d%%", c.live, got)
		}
	}
}

func TestGCTunerConfigValidate(t *testing.T) {
	if err := defaultGCTunerConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []gcTunerConfig{
		{MaxPercent: 50, HeapBudget: 1, Interval: time.Second},
		{MaxPercent: 200, HeapBudget: 0, Interval: time.Second},
		{MaxPercent: 200, HeapBudget: 1, Interval: 0},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v: accepted", c)
		}
	}
}

func TestGCTunerStartClose(t *testing.T) {
	g, err := newGCTuner(gcTunerConfig{MaxPercent: 100, HeapBudget: 1 << 40, Interval: time.Millisecond},
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
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}
