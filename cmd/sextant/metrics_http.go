package main

import (
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
// number of series stays bounded whatever clients send. The series of a
// (route, method) pair are looked up once and kept in a copy-on-write map,
// so a request costs a map read and a few atomic adds, without locks.
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	codes    [maxStatus]string // status code → label, made once

	routes atomic.Pointer[map[routeKey]*routeMetrics]
	mu     sync.Mutex // serialises additions to routes
}

// maxStatus bounds the status codes counted by value; others count as
// "other".
const maxStatus = 600

type routeKey struct{ route, method string }

// routeMetrics are the series of one route and method.
type routeMetrics struct {
	latency prometheus.Observer
	byCode  [maxStatus]atomic.Pointer[counterBox]
}

type counterBox struct{ c prometheus.Counter }

// httpLatencyBuckets span a cached list read (~100 µs) to a write that
// waits for a Raft majority or times out (10 s).
var httpLatencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sextant_http_requests_total",
			Help: "HTTP requests answered, by route pattern (\"unmatched\" for unknown paths), method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sextant_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: httpLatencyBuckets,
		}, []string{"route", "method"}),
	}
	for i := range m.codes {
		m.codes[i] = strconv.Itoa(i)
	}
	empty := map[routeKey]*routeMetrics{}
	m.routes.Store(&empty)
	reg.MustRegister(m.requests, m.latency)
	return m
}

// observe is httpfront.Config.Observe.
func (m *httpMetrics) observe(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	method = foldMethod(method)
	rm := m.route(route, method)
	rm.latency.Observe(d.Seconds())
	if status < 0 || status >= maxStatus {
		m.requests.WithLabelValues(route, method, "other").Inc()
		return
	}
	box := rm.byCode[status].Load()
	if box == nil {
		rm.byCode[status].CompareAndSwap(nil, &counterBox{m.requests.WithLabelValues(route, method, m.codes[status])})
		box = rm.byCode[status].Load()
	}
	box.c.Inc()
}

// route returns the series of a route and method, making them on first use.
func (m *httpMetrics) route(route, method string) *routeMetrics {
	k := routeKey{route, method}
	if rm := (*m.routes.Load())[k]; rm != nil {
		return rm
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.routes.Load()
	if rm := old[k]; rm != nil {
		return rm
	}
	rm := &routeMetrics{latency: m.latency.WithLabelValues(route, method)}
	next := make(map[routeKey]*routeMetrics, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[k] = rm
	m.routes.Store(&next)
	return rm
}

// foldMethod keeps the standard methods and folds anything else to OTHER.
func foldMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch,
		http.MethodHead, http.MethodOptions:
		return m
	}
	return "OTHER"
}
