package history

import (
	"context"
	"testing"
	"time"
)

func TestRecordTurnsTotalsIntoRates(t *testing.T) {
	r, err := New(Config{Interval: 10 * time.Second, Span: 30 * time.Second}, func() Counters { return Counters{} })
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	r.Record(t0, Counters{Instances: 3, Healthy: 2, Registrations: 100, Beats: 50, DNSQueries: 7})
	r.Record(t0.Add(10*time.Second), Counters{Instances: 4, Healthy: 4, Registrations: 120, Beats: 150, DNSQueries: 7})
	// A counter that went down (reset) gives 0, never a negative rate.
	r.Record(t0.Add(15*time.Second), Counters{Instances: 4, Healthy: 1, Registrations: 10, Beats: 160, DNSQueries: 17})
	got := r.Samples()
	want := []Sample{
		{Time: 1000000, Instances: 3, Healthy: 2},
		{Time: 1010000, Instances: 4, Healthy: 4, Registrations: 2, Beats: 10, DNSQueries: 0},
		{Time: 1015000, Instances: 4, Healthy: 1, Registrations: 0, Beats: 2, DNSQueries: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("samples %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sample %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestRingKeepsTheLastSpanOldestFirst(t *testing.T) {
	r, err := New(Config{Interval: time.Second, Span: 3 * time.Second}, func() Counters { return Counters{} })
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(0, 0)
	for i := 0; i < 5; i++ {
		r.Record(t0.Add(time.Duration(i)*time.Second), Counters{Instances: i})
	}
	got := r.Samples()
	if len(got) != 3 || got[0].Instances != 2 || got[1].Instances != 3 || got[2].Instances != 4 {
		t.Fatalf("samples %+v, want instances 2, 3, 4", got)
	}
	// The same time twice gives no rate rather than a division by zero.
	r.Record(t0.Add(4*time.Second), Counters{Beats: 99})
	if s := r.Samples(); s[2].Beats != 0 {
		t.Fatalf("rate over zero seconds: %+v", s[2])
	}
}

func TestConfigIsChecked(t *testing.T) {
	for _, c := range []Config{{}, {Interval: time.Second}, {Interval: time.Nanosecond, Span: time.Hour}} {
		if _, err := New(c, func() Counters { return Counters{} }); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	if _, err := New(DefaultConfig(), nil); err == nil {
		t.Error("nil source accepted")
	}
}

func TestStartSamplesAtOnceAndCloseStops(t *testing.T) {
	reads := make(chan struct{}, 100)
	r, err := New(Config{Interval: time.Hour, Span: time.Hour}, func() Counters {
		reads <- struct{}{}
		return Counters{Instances: 7}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reads:
	case <-time.After(5 * time.Second):
		t.Fatal("no sample at start")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if s := r.Samples(); len(s) != 1 || s[0].Instances != 7 {
		t.Fatalf("samples %+v", s)
	}
	if err := r.Close(); err != nil {
		t.Fatal("second close:", err)
	}
	if err := r.Start(context.Background()); err == nil {
		t.Fatal("start after close accepted")
	}
}
