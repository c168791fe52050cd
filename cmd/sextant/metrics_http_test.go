package main

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
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

// referenceHTTPMetrics records what the client library's own vectors
// expose for the same requests, as observe's contract.
func referenceHTTPMetrics(reg prometheus.Registerer) func(route, method string, status int, d time.Duration) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sextant_http_requests_total",
		Help: "HTTP requests answered, by route pattern (\"unmatched\" for unknown paths), method and status code.",
	}, []string{"route", "method", "code"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sextant_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route pattern and method.",
		Buckets: httpLatencyBuckets[:],
	}, []string{"route", "method"})
	reg.MustRegister(requests, latency)
	return func(route, method string, status int, d time.Duration) {
		if route == "" {
			route = "unmatched"
		}
		switch method {
		case "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS":
		default:
			method = "OTHER"
		}
		code := "other"
		if status >= 0 && status < maxStatus {
			code = strconv.Itoa(status)
		}
		latency.WithLabelValues(route, method).Observe(d.Seconds())
		requests.WithLabelValues(route, method, code).Inc()
	}
}

// TestHTTPMetricsExposeWhatVectorsWould checks that a scrape shows the same
// families, help, types, series and values as a CounterVec and
// HistogramVec fed the same requests, bucket edges included.
func TestHTTPMetricsExposeWhatVectorsWould(t *testing.T) {
	got, want := prometheus.NewRegistry(), prometheus.NewRegistry()
	m := newHTTPMetrics(got)
	ref := referenceHTTPMetrics(want)
	routes := []string{"/nacos/v1/ns/instance/list", "/nacos/v1/ns/instance", "", "/nacos/v1/ns/instance/beat"}
	verbs := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW", "get"}
	codes := []int{200, 200, 400, 404, 500, 503, -1, 600, 0, 599}
	durs := []time.Duration{0, 1, 100 * time.Microsecond, 500 * time.Microsecond, 500*time.Microsecond + 1,
		time.Millisecond, 3 * time.Millisecond, 250 * time.Millisecond, time.Second, 10 * time.Second, 11 * time.Second, time.Minute}
	for i := 0; i < 2000; i++ {
		r, v, c, d := routes[i%len(routes)], verbs[(i/3)%len(verbs)], codes[(i/7)%len(codes)], durs[(i/11)%len(durs)]
		m.observe(r, v, c, d)
		ref(r, v, c, d)
	}
	g, w := gathered(t, got), gathered(t, want)
	if len(g) != len(w) {
		t.Fatalf("%d families, want %d", len(g), len(w))
	}
	for name, wf := range w {
		gf := g[name]
		if gf == nil {
			t.Fatalf("family %s missing", name)
		}
		if gf.GetHelp() != wf.GetHelp() || gf.GetType() != wf.GetType() {
			t.Errorf("%s: help %q type %v, want %q %v", name, gf.GetHelp(), gf.GetType(), wf.GetHelp(), wf.GetType())
		}
		series := map[string]*dto.Metric{}
		for _, gm := range gf.Metric {
			series[labelsOf(gm)] = gm
		}
		if len(series) != len(wf.Metric) {
			t.Errorf("%s: %d series, want %d", name, len(series), len(wf.Metric))
		}
		for _, wm := range wf.Metric {
			gm := series[labelsOf(wm)]
			if gm == nil {
				t.Errorf("%s%s missing", name, labelsOf(wm))
				continue
			}
			if wc := wm.GetCounter(); wc != nil && gm.GetCounter().GetValue() != wc.GetValue() {
				t.Errorf("%s%s = %v, want %v", name, labelsOf(wm), gm.GetCounter().GetValue(), wc.GetValue())
			}
			if wh := wm.GetHistogram(); wh != nil {
				gh := gm.GetHistogram()
				if gh.GetSampleCount() != wh.GetSampleCount() || math.Abs(gh.GetSampleSum()-wh.GetSampleSum()) > 1e-6*(1+wh.GetSampleSum()) {
					t.Errorf("%s%s: count %d sum %v, want %d %v", name, labelsOf(wm),
						gh.GetSampleCount(), gh.GetSampleSum(), wh.GetSampleCount(), wh.GetSampleSum())
				}
				if len(gh.Bucket) != len(wh.Bucket) {
					t.Fatalf("%s%s: %d buckets, want %d", name, labelsOf(wm), len(gh.Bucket), len(wh.Bucket))
				}
				for i, wb := range wh.Bucket {
					if gb := gh.Bucket[i]; gb.GetUpperBound() != wb.GetUpperBound() || gb.GetCumulativeCount() != wb.GetCumulativeCount() {
						t.Errorf("%s%s bucket le=%v: %d, want le=%v %d", name, labelsOf(wm),
							gb.GetUpperBound(), gb.GetCumulativeCount(), wb.GetUpperBound(), wb.GetCumulativeCount())
					}
				}
			}
		}
	}
}

// labelsOf is a series' labels as one comparable string.
func labelsOf(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return "{" + strings.Join(parts, ",") + "}"
}
