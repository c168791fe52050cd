package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sextant/naming"
)

// BenchmarkHTTPObserve is the cost the metrics add to every HTTP request.
func BenchmarkHTTPObserve(b *testing.B) {
	m := newHTTPMetrics(prometheus.NewRegistry())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.observe("/nacos/v1/ns/instance/beat", "PUT", 200, 150*time.Microsecond)
		}
	})
}

// BenchmarkHTTPObserveMixed spreads requests over 32 routes, the methods
// and a few status codes, so that lookups do not all hit one series.
func BenchmarkHTTPObserveMixed(b *testing.B) {
	m := newHTTPMetrics(prometheus.NewRegistry())
	type req struct {
		route, method string
		status        int
		d             time.Duration
	}
	verbs := []string{"GET", "POST", "PUT", "DELETE"}
	codes := []int{200, 200, 200, 400, 404, 503}
	reqs := make([]req, 1024)
	for i := range reqs {
		reqs[i] = req{fmt.Sprintf("/nacos/v1/ns/route-%d", i%32), verbs[i%len(verbs)], codes[i%len(codes)],
			time.Duration(i%200) * 50 * time.Microsecond}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r := &reqs[i%len(reqs)]
			m.observe(r.route, r.method, r.status, r.d)
			i++
		}
	})
}

// BenchmarkHTTPMetricsScrape is one scrape of the HTTP series of 32
// routes × 4 methods × 3 codes.
func BenchmarkHTTPMetricsScrape(b *testing.B) {
	reg := prometheus.NewRegistry()
	m := newHTTPMetrics(reg)
	for r := 0; r < 32; r++ {
		for _, v := range []string{"GET", "POST", "PUT", "DELETE"} {
			for _, c := range []int{200, 400, 503} {
				m.observe(fmt.Sprintf("/nacos/v1/ns/route-%d", r), v, c, time.Millisecond)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

type nopWriter struct{}

func (nopWriter) Apply(context.Context, naming.Op) error { return nil }
func (nopWriter) Owns(naming.ServiceKey) bool            { return true }

// BenchmarkCountingWriter is the cost the metrics add to every write.
func BenchmarkCountingWriter(b *testing.B) {
	w := newWriteMetrics().wrap(nopWriter{})
	op := naming.Op{Kind: naming.OpBeat}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Apply(ctx, op)
		}
	})
}

// BenchmarkScrapeCatalog100k is one scrape of the instance counts of a
// catalog of 10,000 services × 10 instances.
func BenchmarkScrapeCatalog100k(b *testing.B) {
	cat := naming.NewCatalog()
	for s := 0; s < 10000; s++ {
		key := naming.NewServiceKey("", "", fmt.Sprintf("svc-%d", s))
		for i := 0; i < 10; i++ {
			in := &naming.Instance{IP: fmt.Sprintf("10.0.%d.%d", i, s%250+1), Port: 8080, Cluster: naming.DefaultCluster,
				Weight: 1, Healthy: true, Enabled: true, Ephemeral: i%2 == 0}
			if err := cat.Apply(naming.Op{Kind: naming.OpRegister, Time: 1, Service: key, Instance: in}); err != nil {
				b.Fatal(err)
			}
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCatalogCollector(cat))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHTTPObserveSerial(b *testing.B) {
	m := newHTTPMetrics(prometheus.NewRegistry())
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.observe("/nacos/v1/ns/instance/beat", "PUT", 200, 150*time.Microsecond)
	}
}
