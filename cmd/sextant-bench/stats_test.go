package main

import (
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentileNearestRank(t *testing.T) {
	// 1..100 ms in reverse order: the input need not be sorted.
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, ms(i))
	}
	cases := []struct {
		p    float64
		want time.Duration
	}{{50, ms(50)}, {99, ms(99)}, {100, ms(100)}, {1, ms(1)}, {0.1, ms(1)}, {99.5, ms(100)}}
	for _, c := range cases {
		if got := percentile(ds, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if ds[0] != ms(100) {
		t.Errorf("percentile sorted its input in place")
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("empty input: %v", got)
	}
	// Three values: the median is the middle one, p99 the largest.
	three := []time.Duration{ms(3), ms(1), ms(2)}
	if got := median(three); got != ms(2) {
		t.Errorf("median of 1,2,3 = %v", got)
	}
	if s := summarize(three); s.P99 != ms(3) || s.Max != ms(3) || s.P50 != ms(2) || s.N != 3 {
		t.Errorf("summary %+v", s)
	}
}

func TestFormatting(t *testing.T) {
	for n, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", -45000: "-45,000", 99.5: "100"} {
		if got := fmtCount(n); got != want {
			t.Errorf("fmtCount(%v) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{1500 * time.Millisecond: "1.50 s", ms(12) + 340*time.Microsecond: "12.3 ms", 870 * time.Microsecond: "870 µs"} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%v) = %q, want %q", d, got, want)
		}
	}
	if got := fmtBytes(1536 << 20); got != "1.50 GiB" {
		t.Errorf("fmtBytes = %q", got)
	}
	if got := ratio(45, 50); got != "0.90×" {
		t.Errorf("ratio = %q", got)
	}
	if got := ratio(1, 0); got != "" {
		t.Errorf("ratio over 0 = %q", got)
	}
}
