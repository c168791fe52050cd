package main

import (
	"net/http"
	"regexp"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"
)

// Metrics are served at GET /metrics in the Prometheus text format. Each
// process builds one registry (no global, no default registry); the
// collectors read the components' own counters (their Stats methods) when
// scraped, so nothing is counted twice and the hot paths keep only their
// atomic counters. The few figures no component keeps (HTTP requests by
// route, writes by kind) are counted by small hooks in this package.

// metricsScrapeTimeout bounds one scrape; metricsMaxScrapes bounds the
// scrapes served at once.
const (
	metricsScrapeTimeout = 10 * time.Second
	metricsMaxScrapes    = 4
)

// newRegistry returns a registry holding the Go runtime, process and build
// collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		// The live heap as of the last collection (go_gc_heap_live_bytes)
		// beside the MemStats gauges, which count garbage not yet collected.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "sextant_build_info",
			Help:        "Always 1; the labels tell the version of the running binary.",
			ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
		}, func() float64 { return 1 }),
	)
	return reg
}

// metricsHandler serves the registry's exposition.
func metricsHandler(reg *prometheus.Registry, log *logrus.Entry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            log,
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: metricsMaxScrapes,
		Timeout:             metricsScrapeTimeout,
	})
}

// emitter adds const metrics to a channel; the collectors below use it to
// turn Stats structs into samples at scrape time.
type emitter chan<- prometheus.Metric

func (e emitter) counter(d *prometheus.Desc, v uint64, labels ...string) {
	e <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func (e emitter) counterf(d *prometheus.Desc, v float64, labels ...string) {
	e <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func (e emitter) gauge(d *prometheus.Desc, v float64, labels ...string) {
	e <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// descs describes every metric of a collector at once.
type descs []*prometheus.Desc

func (ds *descs) add(name, help string, labels ...string) *prometheus.Desc {
	d := prometheus.NewDesc(name, help, labels, nil)
	*ds = append(*ds, d)
	return d
}

func (ds descs) describe(ch chan<- *prometheus.Desc) {
	for _, d := range ds {
		ch <- d
	}
}
