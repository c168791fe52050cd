package main

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestProbesAreNoSSRF is the attack of issue 16 on a real node that
// refuses internal probe targets (the default off loopback): a namespace
// writer points an HTTP check with chosen Host and Authorization headers,
// every 200 ms, at a loopback service. The headers are refused, and the
// probes never reach the service.
func TestProbesAreNoSSRF(t *testing.T) {
	p := startSextant(t, "", "--health-check-allow-internal", "false", "--health-check-interval", "1s")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })}
	go srv.Serve(ln)
	defer srv.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	if code, body := p.do("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {"inside"}, "ip": {"127.0.0.1"},
		"port": {port}, "ephemeral": {"false"}}); code != 200 {
		t.Fatalf("register: %d %s", code, body)
	}
	cluster := func(headers string) (int, string) {
		return p.do("PUT", "/nacos/v1/ns/cluster", url.Values{"serviceName": {"inside"}, "clusterName": {"DEFAULT"},
			"checkPort": {"0"}, "useInstancePort4Check": {"true"}, "checkInterval": {"200"},
			"healthChecker": {`{"type":"HTTP","path":"/latest/meta-data","headers":"` + headers + `"}`}})
	}
	for _, h := range []string{"Host:metadata.internal", "Authorization:Bearer stolen"} {
		if code, body := cluster(h); code != 400 || !strings.Contains(body, "not allowed") {
			t.Fatalf("check with header %q: %d %s, want 400", h, code, body)
		}
	}
	if code, body := cluster("X-Probe:1"); code != 200 {
		t.Fatalf("check: %d %s", code, body)
	}
	var lc map[string]any
	waitFor(t, 10*time.Second, "a refused probe", func() bool {
		lc = lastCheck(t, p, url.Values{"serviceName": {"inside"}, "ip": {"127.0.0.1"}, "port": {port}})
		r, _ := lc["reason"].(string)
		return strings.Contains(r, "loopback addresses are not probed")
	})
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback service was reached %d times", n)
	}
}
