package main

import (
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// gathered parses what reg exposes, as a scrape would see it.
func gathered(t *testing.T, reg *prometheus.Registry) scrape {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	s := scrape{}
	for _, f := range fams {
		s[f.GetName()] = f
	}
	return s
}

func TestHTTPMetricsBoundLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newHTTPMetrics(reg)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				m.observe("/nacos/v1/ns/instance", "POST", 200, time.Millisecond)
			}
		}()
	}
	wg.Wait()
	m.observe("", "GET", 404, time.Millisecond)
	m.observe("", "BREW", 404, time.Millisecond)
	m.observe("/nacos/v1/ns/instance", "POST", 999, time.Millisecond)

	s := gathered(t, reg)
	if v := s.must(t, "sextant_http_requests_total", "route=/nacos/v1/ns/instance", "method=POST", "code=200"); v != 400 {
		t.Errorf("concurrent requests counted %v, want 400", v)
	}
	if v := s.must(t, "sextant_http_request_duration_seconds", "route=/nacos/v1/ns/instance", "method=POST"); v != 401 {
		t.Errorf("latency observations %v, want 401", v)
	}
	if v := s.must(t, "sextant_http_requests_total", "route=unmatched", "method=OTHER", "code=404"); v != 1 {
		t.Errorf("an unknown method is not folded to OTHER: %v", v)
	}
	if v := s.must(t, "sextant_http_requests_total", "route=/nacos/v1/ns/instance", "method=POST", "code=other"); v != 1 {
		t.Errorf("an out-of-range status is not counted as other: %v", v)
	}
	if n := len(s["sextant_http_requests_total"].Metric); n != 4 {
		t.Errorf("%d request series, want 4", n)
	}
	if n := len(s["sextant_http_request_duration_seconds"].Metric); n != 3 {
		t.Errorf("%d latency series, want 3", n)
	}
}
