package httpfront

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

type observed struct {
	route, method string
	status        int
	d             time.Duration
}

func TestObserveReportsRoutePatternMethodAndStatus(t *testing.T) {
	var mu sync.Mutex
	var got []observed
	e := newEnv(t, func(c *Config) {
		c.Observe = func(route, method string, status int, d time.Duration) {
			mu.Lock()
			got = append(got, observed{route, method, status, d})
			mu.Unlock()
		}
	})
	e.must(200, "GET", "/nacos/v1/ns/instance/list?serviceName=demo", "")
	e.must(400, "POST", "/nacos/v1/ns/instance", "serviceName=demo&ip=bad&port=1")
	e.must(501, "GET", "/nacos/v1/ns/nothing/here", "")
	want := []observed{
		{route: "/nacos/v1/ns/instance/list", method: "GET", status: 200},
		{route: "/nacos/v1/ns/instance", method: "POST", status: 400},
		// Unmatched paths report no pattern, so labels stay bounded.
		{route: "", method: "GET", status: 501},
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("observed %d requests, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.route != w.route || g.method != w.method || g.status != w.status || g.d <= 0 {
			t.Errorf("request %d observed as %+v, want %+v with a positive duration", i, g, w)
		}
	}
}

func TestMetricsHandlerMountedAtMetrics(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("sextant_up 1\n"))
		})
	})
	rec := e.must(200, "GET", "/metrics", "")
	if rec.Body.String() != "sextant_up 1\n" {
		t.Errorf("GET /metrics = %q", rec.Body.String())
	}
	// Readiness does not gate it: a node that is loading is still scraped.
	e.cl.setReady(errBoom)
	e.must(200, "GET", "/metrics", "")

	plain := newEnv(t)
	plain.must(404, "GET", "/metrics", "")
}
