package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape is one parsed /metrics exposition.
type scrape map[string]*dto.MetricFamily

func scrapeMetrics(t *testing.T, base string) scrape {
	t.Helper()
	resp, err := httpClient.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET /metrics content type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse as the Prometheus text format: %v", err)
	}
	return fams
}

// value sums the samples of name whose labels include want (name=value
// pairs); for a histogram it sums the observation counts. ok is false when
// no sample matches.
func (s scrape) value(name string, want ...string) (v float64, ok bool) {
	f := s[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for _, kv := range want {
			k, val, _ := strings.Cut(kv, "=")
			if have[k] != val {
				continue next
			}
		}
		ok = true
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Histogram != nil:
			v += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			v += m.Untyped.GetValue()
		}
	}
	return v, ok
}

func (s scrape) must(t *testing.T, name string, want ...string) float64 {
	t.Helper()
	v, ok := s.value(name, want...)
	if !ok {
		t.Fatalf("no sample %s%v in /metrics", name, want)
	}
	return v
}

// startMember1 runs a cluster of one member, so that Raft and Distro run
// and report, with probes every 100 ms.
func startMember1(t *testing.T) *proc {
	t.Helper()
	port := clusterPort(t, map[int]bool{})
	p := &proc{t: t, dataDir: t.TempDir(), httpAddr: fmt.Sprintf("127.0.0.1:%d", port), dnsAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	p.args = []string{"server", "--http-addr", p.httpAddr, "--dns-addr", p.dnsAddr, "--data-dir", p.dataDir,
		"--push-target", "source", "--beat-sweep-interval", "100ms", "--members", p.httpAddr,
		"--health-check-interval", "100ms"}
	p.start()
	return p
}

// TestMetricsMoveWithTraffic scrapes a running node before and after
// traffic of each kind and checks that the matching numbers moved.
func TestMetricsMoveWithTraffic(t *testing.T) {
	p := startMember1(t)
	base := "http://" + p.httpAddr
	waitFor(t, 10*time.Second, "a Raft leader", func() bool {
		v, _ := scrapeMetrics(t, base).value("sextant_raft_role", "role=Leader")
		return v == 1
	})
	before := scrapeMetrics(t, base)

	// A subscriber, so that changes are pushed.
	sub, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	udpPort := strconv.Itoa(sub.LocalAddr().(*net.UDPAddr).Port)
	req, _ := http.NewRequest("GET", base+"/nacos/v1/ns/instance/list?"+
		url.Values{"serviceName": {"metered"}, "udpPort": {udpPort}, "clientIP": {"127.0.0.1"}}.Encode(), nil)
	req.Header.Set("User-Agent", "Nacos-Go-Client:v1.1.4") // a client type Nacos pushes to
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("subscribe: %d", resp.StatusCode)
	}

	// An ephemeral instance that turns unhealthy 300 ms after its last beat.
	reg := url.Values{"serviceName": {"metered"}, "ip": {"127.0.0.10"}, "port": {"8080"},
		"metadata": {`{"preserved.heart.beat.timeout":"300","preserved.ip.delete.timeout":"60000"}`}}
	if code, body := p.do("POST", "/nacos/v1/ns/instance", reg); code != 200 {
		t.Fatalf("register: %d %s", code, body)
	}
	// A persistent instance on a closed port: the probe marks it unhealthy.
	closed := freePort(t)
	if code, body := p.do("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {"probed"}, "ip": {"127.0.0.1"},
		"port": {strconv.Itoa(closed)}, "ephemeral": {"false"}}); code != 200 {
		t.Fatalf("register persistent: %d %s", code, body)
	}
	if code, _ := p.do("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {"metered"}, "ip": {"bad"}, "port": {"1"}}); code != 400 {
		t.Fatalf("bad register answered %d, want 400", code)
	}
	p.get("/nacos/v1/ns/no/such/api", nil)

	// The push reaches the subscriber; ack it.
	sub.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 65536)
	n, from, err := sub.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no push: %v", err)
	}
	var push struct {
		LastRefTime json.Number `json:"lastRefTime"`
	}
	if err := json.Unmarshal(buf[:n], &push); err != nil {
		t.Fatalf("push %q: %v", buf[:n], err)
	}
	sub.WriteTo([]byte(`{"type":"push-ack","lastRefTime":`+push.LastRefTime.String()+`,"data":""}`), from)

	dnsQuery(t, p.dnsAddr, "metered.service.nacos.", dns.TypeA, false)
	dnsQuery(t, p.dnsAddr, "metered.service.nacos.", dns.TypeA, true)
	dnsQuery(t, p.dnsAddr, "absent.service.nacos.", dns.TypeSRV, false)

	// The beat checker marks the ephemeral instance unhealthy; a beat
	// brings it back.
	waitFor(t, 5*time.Second, "the beat timeout", func() bool {
		v, _ := scrapeMetrics(t, base).value("sextant_health_flips_total", "checker=beat", "to=unhealthy")
		return v >= 1
	})
	if code, body := p.do("PUT", "/nacos/v1/ns/instance/beat", url.Values{"serviceName": {"metered"}, "ip": {"127.0.0.10"}, "port": {"8080"}}); code != 200 {
		t.Fatalf("beat: %d %s", code, body)
	}
	waitFor(t, 5*time.Second, "the probe's flip and the push ack", func() bool {
		s := scrapeMetrics(t, base)
		probe, _ := s.value("sextant_health_flips_total", "checker=probe", "to=unhealthy")
		acked, _ := s.value("sextant_push_total", "outcome=acked")
		return probe >= 1 && acked >= 1
	})
	after := scrapeMetrics(t, base)

	moved := func(name string, min float64, labels ...string) {
		t.Helper()
		b, _ := before.value(name, labels...)
		a := after.must(t, name, labels...)
		if a-b < min {
			t.Errorf("%s%v went from %v to %v, want it up by at least %v", name, labels, b, a, min)
		}
	}
	is := func(name string, want float64, labels ...string) {
		t.Helper()
		if v := after.must(t, name, labels...); v != want {
			t.Errorf("%s%v = %v, want %v", name, labels, v, want)
		}
	}
	moved("sextant_http_requests_total", 2, "route=/nacos/v1/ns/instance", "method=POST", "code=200")
	moved("sextant_http_requests_total", 1, "route=/nacos/v1/ns/instance", "method=POST", "code=400")
	moved("sextant_http_requests_total", 1, "route=unmatched", "method=GET", "code=501")
	moved("sextant_http_request_duration_seconds", 3, "route=/nacos/v1/ns/instance", "method=POST")
	moved("sextant_writes_total", 2, "op=register", "result=ok")
	moved("sextant_writes_total", 1, "op=beat", "result=ok")
	moved("sextant_dns_queries_total", 2, "qtype=A", "rcode=NOERROR")
	moved("sextant_dns_queries_total", 1, "qtype=SRV", "rcode=NXDOMAIN")
	moved("sextant_dns_tcp_queries_total", 1)
	moved("sextant_health_flips_total", 1, "checker=beat", "to=healthy")
	moved("sextant_probes_total", 1)
	moved("sextant_probe_failures_total", 1)
	moved("sextant_push_total", 1, "outcome=sent")
	moved("sextant_raft_applied_index", 1)
	moved("sextant_raft_commit_index", 1)
	is("sextant_instances", 1, "namespace=public", "ephemeral=true", "healthy=true")
	is("sextant_instances", 1, "namespace=public", "ephemeral=false", "healthy=false")
	is("sextant_services", 2, "namespace=public")
	is("sextant_push_subscribers", 1)
	is("sextant_ready", 1)
	is("sextant_cluster_members", 1, "state=UP")
	is("sextant_raft_voters", 1)
	is("sextant_raft_role", 0, "role=Follower")
	if term := after.must(t, "sextant_raft_term"); term < 1 {
		t.Errorf("raft term %v", term)
	}
	for _, name := range []string{"sextant_distro_syncs_total", "sextant_distro_pending_services", "sextant_build_info",
		"go_goroutines", "go_gc_heap_live_bytes", "process_resident_memory_bytes"} {
		after.must(t, name)
	}
}

// TestGatewayMetrics scrapes a gateway that follows a node: its freshness,
// its polls, its DNS answers and what its mirror holds.
func TestGatewayMetrics(t *testing.T) {
	p := startSextant(t, "")
	registerOn(t, p, "gw-metered", "127.0.0.21")
	cfg := testGatewayConfig(t, p.httpAddr)
	cfg.Services = []string{"gw-metered"}
	g, _ := startTestGateway(t, cfg)
	base := "http://" + g.front.Addr()
	waitFor(t, 5*time.Second, "the gateway to mirror the service", func() bool {
		v, _ := scrapeMetrics(t, base).value("sextant_instances", "namespace=public", "healthy=true")
		return v == 1
	})
	dnsQuery(t, g.dns.UDPAddr(), "gw-metered.service.nacos.", dns.TypeA, false)
	s := scrapeMetrics(t, base)
	if v := s.must(t, "sextant_dns_queries_total", "qtype=A", "rcode=NOERROR"); v != 1 {
		t.Errorf("gateway DNS A/NOERROR = %v, want 1", v)
	}
	if v := s.must(t, "sextant_gateway_polls_total"); v < 1 {
		t.Errorf("gateway polls = %v", v)
	}
	if v := s.must(t, "sextant_gateway_followed_services", "on_demand=false"); v != 1 {
		t.Errorf("followed services = %v, want 1", v)
	}
	if v := s.must(t, "sextant_gateway_serving_instances"); v != 1 {
		t.Errorf("serving instances = %v, want 1", v)
	}
	last := s.must(t, "sextant_gateway_last_contact_timestamp_seconds")
	if age := float64(time.Now().UnixNano())/1e9 - last; age < 0 || age > 10 {
		t.Errorf("last contact %v is %v s ago", last, age)
	}
	if stale := s.must(t, "sextant_gateway_stale_seconds"); stale < 0 || stale > 10 {
		t.Errorf("stale seconds = %v", stale)
	}
	if v := s.must(t, "sextant_gateway_stale"); v != 0 {
		t.Errorf("gateway reports stale data right after a poll")
	}
	if v := s.must(t, "sextant_http_requests_total", "route=/metrics", "method=GET", "code=200"); v < 1 {
		t.Errorf("the gateway does not count its own scrapes: %v", v)
	}
}
