package main

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics counts the requests of an HTTP front by route pattern,
// method and status, with a latency histogram by route and method. Routes
// are gin's patterns and methods are folded to the standard ones, so the
// number of series stays bounded whatever clients send.
//
// It is its own prometheus.Collector: each (route, method) pair has plain
// atomic counters, found through a copy-on-write map keyed by the route and
// a fixed slot per method, so a request costs one string-keyed map read, a
// short bucket scan on the duration and two atomic adds, without locks,
// label hashing or float arithmetic. A scrape turns the counters into the
// same counter and histogram families a CounterVec and HistogramVec would
// expose.
type httpMetrics struct {
	requests *prometheus.Desc
	latency  *prometheus.Desc
	codes    [maxStatus]string              // status code → label, made once
	bounds   [len(httpLatencyBuckets)]int64 // httpLatencyBuckets in nanoseconds
	routes   atomic.Pointer[map[string]*routeMetrics]
	mu       sync.Mutex // serialises additions to routes and their methods
}

// maxStatus bounds the status codes counted by value; others count as
// "other".
const maxStatus = 600

// methods are the method labels, in the order of methodIndex.
var methods = [...]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch,
	http.MethodHead, http.MethodOptions, "OTHER"}

// methodIndex is the slot of a method in methods: the standard methods
// keep theirs and anything else folds to OTHER.
func methodIndex(m string) int {
	switch m {
	case http.MethodGet:
		return 0
	case http.MethodPost:
		return 1
	case http.MethodPut:
		return 2
	case http.MethodDelete:
		return 3
	case http.MethodPatch:
		return 4
	case http.MethodHead:
		return 5
	case http.MethodOptions:
		return 6
	}
	return 7
}

// routeMetrics are the series of one route, per method (nil until used).
type routeMetrics struct {
	byMethod [len(methods)]atomic.Pointer[seriesCounts]
}

// seriesCounts are the counters of one route and method.
type seriesCounts struct {
	// buckets[i] counts durations in (bounds[i-1], bounds[i]]; the last
	// one those above every bound.
	buckets  [len(httpLatencyBuckets) + 1]atomic.Uint64
	sumNanos atomic.Int64
	// byCode[c] counts status c; byCode[maxStatus] the others.
	byCode [maxStatus + 1]atomic.Uint64
}

// httpLatencyBuckets span a cached list read (~100 µs) to a write that
// waits for a Raft majority or times out (10 s).
var httpLatencyBuckets = [...]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewDesc("sextant_http_requests_total",
			"HTTP requests answered, by route pattern (\"unmatched\" for unknown paths), method and status code.",
			[]string{"route", "method", "code"}, nil),
		latency: prometheus.NewDesc("sextant_http_request_duration_seconds",
			"Time to answer an HTTP request, by route pattern and method.",
			[]string{"route", "method"}, nil),
	}
	for i := range m.codes {
		m.codes[i] = strconv.Itoa(i)
	}
	for i, b := range httpLatencyBuckets {
		m.bounds[i] = int64(math.Round(b * 1e9))
	}
	empty := map[string]*routeMetrics{}
	m.routes.Store(&empty)
	reg.MustRegister(m)
	return m
}

// observe is httpfront.Config.Observe.
func (m *httpMetrics) observe(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	mi := methodIndex(method)
	rm := (*m.routes.Load())[route]
	var s *seriesCounts
	if rm != nil {
		s = rm.byMethod[mi].Load()
	}
	if s == nil {
		s = m.series(route, mi)
	}
	ns := int64(d)
	i := 0
	for i < len(m.bounds) && ns > m.bounds[i] {
		i++
	}
	s.buckets[i].Add(1)
	s.sumNanos.Add(ns)
	if status < 0 || status >= maxStatus {
		status = maxStatus
	}
	s.byCode[status].Add(1)
}

// series returns the counters of a route and method, making them on first
// use.
func (m *httpMetrics) series(route string, mi int) *seriesCounts {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.routes.Load()
	rm := old[route]
	if rm == nil {
		rm = &routeMetrics{}
		next := make(map[string]*routeMetrics, len(old)+1)
		for k, v := range old {
			next[k] = v
		}
		next[route] = rm
		m.routes.Store(&next)
	}
	s := rm.byMethod[mi].Load()
	if s == nil {
		s = &seriesCounts{}
		rm.byMethod[mi].Store(s)
	}
	return s
}

// Describe is prometheus.Collector.
func (m *httpMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.requests
	ch <- m.latency
}

// Collect is prometheus.Collector. A histogram's count is the sum of its
// buckets, so the two always agree; its sum may miss a request counted
// meanwhile.
func (m *httpMetrics) Collect(ch chan<- prometheus.Metric) {
	for route, rm := range *m.routes.Load() {
		for mi := range rm.byMethod {
			s := rm.byMethod[mi].Load()
			if s == nil {
				continue
			}
			method := methods[mi]
			cum := make(map[float64]uint64, len(httpLatencyBuckets))
			var n uint64
			for i, b := range httpLatencyBuckets {
				n += s.buckets[i].Load()
				cum[b] = n
			}
			n += s.buckets[len(httpLatencyBuckets)].Load()
			ch <- prometheus.MustNewConstHistogram(m.latency, n, float64(s.sumNanos.Load())/1e9, cum, route, method)
			for code := range s.byCode {
				c := s.byCode[code].Load()
				if c == 0 {
					continue
				}
				label := "other"
				if code < maxStatus {
					label = m.codes[code]
				}
				ch <- prometheus.MustNewConstMetric(m.requests, prometheus.CounterValue, float64(c), route, method, label)
			}
		}
	}
}
