package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/sirupsen/logrus"

	"sextant/client"
	"sextant/httpfront"
	"sextant/naming"
)

type clientService = client.Service

// gatewayLogs collects the gateway's log lines for assertions.
type gatewayLogs struct {
	mu    sync.Mutex
	lines []string
}

func (l *gatewayLogs) Levels() []logrus.Level { return logrus.AllLevels }
func (l *gatewayLogs) Fire(e *logrus.Entry) error {
	s, _ := e.String()
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
	return nil
}

func (l *gatewayLogs) has(parts ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
next:
	for _, line := range l.lines {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue next
			}
		}
		return true
	}
	return false
}

func (l *gatewayLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "")
}

// testGatewayConfig is a gateway on loopback with short timings.
func testGatewayConfig(t *testing.T, servers ...string) GatewayConfig {
	cfg := DefaultGatewayConfig()
	cfg.Servers = servers
	cfg.DNSAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.CacheDir = t.TempDir()
	cfg.PushAddr = "127.0.0.1:0"
	cfg.ClientIP = "127.0.0.1"
	cfg.RequestTimeout = 500 * time.Millisecond
	cfg.FailoverCheckInterval = 50 * time.Millisecond
	cfg.LogLevel = "debug"
	return cfg
}

// startTestGateway runs a gateway in this process, closed at the end.
func startTestGateway(t *testing.T, cfg GatewayConfig) (*gateway, *gatewayLogs) {
	t.Helper()
	httpfront.UseReleaseMode()
	log := logrus.New()
	log.SetOutput(io.Discard)
	log.SetLevel(logrus.DebugLevel)
	logs := &gatewayLogs{}
	log.AddHook(logs)
	g, err := startGateway(t.Context(), cfg, log)
	if err != nil {
		t.Fatalf("start gateway: %v", err)
	}
	t.Cleanup(func() { g.Close() })
	return g, logs
}

// answerIPs returns the A records of name at addr, sorted, and the rcode.
func answerIPs(t *testing.T, addr, name string) ([]string, int) {
	t.Helper()
	r := dnsQuery(t, addr, name, dns.TypeA, false)
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	sort.Strings(out)
	return out, r.Rcode
}

func registerOn(t *testing.T, p *proc, service, ip string) {
	t.Helper()
	if code, body := p.do("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {service}, "ip": {ip}, "port": {"8080"}}); code != 200 {
		t.Fatalf("register %s on %s: %d %s", ip, p.httpAddr, code, body)
	}
}

func deregisterOn(t *testing.T, p *proc, service, ip string) {
	t.Helper()
	if code, body := p.do("DELETE", "/nacos/v1/ns/instance", url.Values{"serviceName": {service}, "ip": {ip}, "port": {"8080"}}); code != 200 {
		t.Fatalf("deregister %s on %s: %d %s", ip, p.httpAddr, code, body)
	}
}

func gatewayGet(t *testing.T, g *gateway, path string) (int, string) {
	t.Helper()
	resp, err := httpClient.Get("http://" + g.front.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func gatewayStatus(t *testing.T, g *gateway) GatewayStatus {
	t.Helper()
	code, body := gatewayGet(t, g, "/gateway/status")
	var st GatewayStatus
	if code != 200 || json.Unmarshal([]byte(body), &st) != nil {
		t.Fatalf("status: %d %s", code, body)
	}
	return st
}

// TestGatewayFollowsQueriedServices: the first DNS query for a service
// starts following it and is answered; unknown names stay NXDOMAIN; the
// read-only HTTP API and the status show the mirror; a change on the
// server reaches DNS.
func TestGatewayFollowsQueriedServices(t *testing.T) {
	p := startSextant(t, "")
	registerOn(t, p, "web", "127.0.0.51")
	registerOn(t, p, "web", "127.0.0.52")
	dead := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	g, _ := startTestGateway(t, testGatewayConfig(t, dead, p.httpAddr))
	dnsAddr := g.dns.UDPAddr()

	ips, rcode := answerIPs(t, dnsAddr, "web.service.nacos.")
	if rcode != dns.RcodeSuccess || !slices.Equal(ips, []string{"127.0.0.51", "127.0.0.52"}) {
		t.Fatalf("first query: rcode %d, %v", rcode, ips)
	}
	if _, rcode := answerIPs(t, dnsAddr, "nosuch.service.nacos."); rcode != dns.RcodeNameError {
		t.Fatalf("unknown service: rcode %d", rcode)
	}
	r := dnsQuery(t, dnsAddr, "_web._tcp.service.nacos.", dns.TypeSRV, true)
	if len(r.Answer) != 2 {
		t.Fatalf("SRV over TCP: %v", r)
	}

	code, body := gatewayGet(t, g, "/nacos/v1/ns/instance/list?serviceName=web")
	if code != 200 || !strings.Contains(body, "127.0.0.51") || !strings.Contains(body, `"name":"DEFAULT_GROUP@@web"`) {
		t.Fatalf("read-only list: %d %s", code, body)
	}
	resp, err := httpClient.PostForm("http://"+g.front.Addr()+"/nacos/v1/ns/instance",
		url.Values{"serviceName": {"web"}, "ip": {"127.0.0.9"}, "port": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "read-only") {
		t.Fatalf("write to the gateway: %d %s", resp.StatusCode, b)
	}
	st := gatewayStatus(t, g)
	if st.LastServerContact == nil || st.Stale || len(st.Services) != 2 {
		t.Fatalf("status %+v", st)
	}
	if st.Services[0].Service != "public/DEFAULT_GROUP@@nosuch" || st.Services[1].Service != "public/DEFAULT_GROUP@@web" ||
		st.Services[1].Serving != 2 || !st.Services[1].OnDemand {
		t.Fatalf("status services %+v", st.Services)
	}

	// Another namespace, named in the query, gets a client of its own.
	if code, body := p.do("POST", "/nacos/v1/ns/instance", url.Values{"namespaceId": {"dev"}, "serviceName": {"web"}, "ip": {"127.0.0.71"}, "port": {"8080"}}); code != 200 {
		t.Fatalf("register in dev: %d %s", code, body)
	}
	if ips, _ := answerIPs(t, dnsAddr, "web.service.dev.ns.nacos."); !slices.Equal(ips, []string{"127.0.0.71"}) {
		t.Fatalf("namespace dev: %v", ips)
	}
	if st := gatewayStatus(t, g); !slices.Equal(st.Namespaces, []string{"dev", "public"}) {
		t.Fatalf("namespaces %v", st.Namespaces)
	}

	deregisterOn(t, p, "web", "127.0.0.52")
	waitFor(t, 5*time.Second, "the change in DNS", func() bool {
		ips, _ := answerIPs(t, dnsAddr, "web.service.nacos.")
		return slices.Equal(ips, []string{"127.0.0.51"})
	})

	// Once nobody has asked for missTTL, an on-demand follow that holds
	// nothing is dropped; one that holds instances stays.
	before := g.followCount()
	for _, name := range []string{"DEFAULT_GROUP@@nosuch", "DEFAULT_GROUP@@web"} {
		g.asked.Set("public/"+name, struct{}{}, time.Millisecond)
	}
	waitFor(t, 3*time.Second, "the idle unknown follow dropped", func() bool {
		g.tick(time.Now())
		return g.followCount() == before-1
	})
	if st := gatewayStatus(t, g); slices.ContainsFunc(st.Services, func(s GatewayService) bool { return s.Service == "public/DEFAULT_GROUP@@nosuch" }) ||
		!slices.ContainsFunc(st.Services, func(s GatewayService) bool { return s.Service == "public/DEFAULT_GROUP@@web" }) {
		t.Fatalf("after expiry: %+v", st.Services)
	}
}

// TestGatewayOutlivesServers: with every server killed the gateway keeps
// answering (and says how stale it is); restarted while they are still
// down, with load-cache-at-start, it answers from the snapshot at once,
// skipping a corrupt snapshot file with a log line.
func TestGatewayOutlivesServers(t *testing.T) {
	p1, p2 := startSextant(t, ""), startSextant(t, "")
	for _, p := range []*proc{p1, p2} {
		registerOn(t, p, "web", "127.0.0.51")
		registerOn(t, p, "api", "127.0.0.61")
	}
	cfg := testGatewayConfig(t, p1.httpAddr, p2.httpAddr)
	cfg.Services = []string{"web"}
	cfg.StaleWarnAfter = 500 * time.Millisecond
	g, logs := startTestGateway(t, cfg)
	dnsAddr := g.dns.UDPAddr()
	waitFor(t, 3*time.Second, "the listed service", func() bool {
		ips, _ := answerIPs(t, dnsAddr, "web.service.nacos.")
		return len(ips) == 1
	})
	if ips, _ := answerIPs(t, dnsAddr, "api.service.nacos."); len(ips) != 1 {
		t.Fatalf("on-demand api: %v", ips)
	}
	// While a server answers, the periodic check finds nothing stale (it
	// asks a server when nothing else did lately).
	waitFor(t, 3*time.Second, "a quiet spell", func() bool {
		return time.Since(g.lastContact()) > cfg.StaleWarnAfter
	})
	g.tick(time.Now())
	if st := gatewayStatus(t, g); st.Stale || logs.has("no server has answered") {
		t.Fatalf("stale while servers answer: %+v", st)
	}
	p1.kill()
	p2.kill()
	// Every server down: answers keep coming from memory; a log line and
	// the status say how stale they are.
	waitFor(t, 3*time.Second, "staleness past stale-warn-after", func() bool {
		g.tick(time.Now())
		return logs.has("no server has answered")
	})
	if st := gatewayStatus(t, g); !st.Stale || st.StaleSeconds < cfg.StaleWarnAfter.Seconds() {
		t.Fatalf("status does not say stale: %+v", st)
	}
	for i := 0; i < 20; i++ {
		for _, name := range []string{"web", "api"} {
			if ips, rcode := answerIPs(t, dnsAddr, name+".service.nacos."); rcode != dns.RcodeSuccess || len(ips) != 1 {
				t.Fatalf("%s with servers down: rcode %d %v", name, rcode, ips)
			}
		}
	}
	// A name not followed yet gets a bounded NXDOMAIN, not a hang.
	start := time.Now()
	if _, rcode := answerIPs(t, dnsAddr, "newcomer.service.nacos."); rcode != dns.RcodeNameError {
		t.Fatalf("new name with servers down: rcode %d", rcode)
	}
	if d := time.Since(start); d > 2*cfg.MissWait {
		t.Errorf("new name with servers down took %v", d)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}

	snapDir := filepath.Join(cfg.CacheDir, "naming", "public")
	for _, f := range []string{"DEFAULT_GROUP@@web", "DEFAULT_GROUP@@api"} {
		if _, err := os.Stat(filepath.Join(snapDir, f)); err != nil {
			t.Fatalf("no snapshot of %s: %v", f, err)
		}
	}
	if err := os.WriteFile(filepath.Join(snapDir, "DEFAULT_GROUP@@cut"), []byte(`{"name":"DEFAULT_GROUP@@cut","hosts":[{"ip":"127.0`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.LoadCacheAtStart = true
	cfg.MissWait = 0 // nothing may come from a server: prove it is the snapshot
	g2, logs2 := startTestGateway(t, cfg)
	for _, name := range []string{"web", "api"} {
		if ips, rcode := answerIPs(t, g2.dns.UDPAddr(), name+".service.nacos."); rcode != dns.RcodeSuccess || len(ips) != 1 {
			t.Fatalf("%s from the snapshot: rcode %d %v", name, rcode, ips)
		}
	}
	if !logs2.has("skipping unreadable snapshot file", "DEFAULT_GROUP@@cut") {
		t.Fatalf("corrupt snapshot not logged:\n%s", logs2)
	}
}

// TestGatewayFailoverFile: with the switch on, DNS answers from the
// hand-edited failover file; with it off, from the servers again.
func TestGatewayFailoverFile(t *testing.T) {
	p := startSextant(t, "")
	registerOn(t, p, "web", "127.0.0.51")
	cfg := testGatewayConfig(t, p.httpAddr)
	cfg.Services = []string{"web"}
	g, _ := startTestGateway(t, cfg)
	dnsAddr := g.dns.UDPAddr()
	want := func(ip string) {
		t.Helper()
		waitFor(t, 3*time.Second, "DNS answering "+ip, func() bool {
			ips, _ := answerIPs(t, dnsAddr, "web.service.nacos.")
			return slices.Equal(ips, []string{ip})
		})
	}
	want("127.0.0.51")
	dir := filepath.Join(cfg.CacheDir, "naming", "public", "failover")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "web.json"), []byte(`{"name":"web","hosts":[{"ip":"127.0.0.99","port":8080}]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "switch"), []byte("1\n"), 0o644)
	want("127.0.0.99")
	if st := gatewayStatus(t, g); !st.Failover {
		t.Fatalf("status does not show failover: %+v", st)
	}
	os.WriteFile(filepath.Join(dir, "switch"), []byte("0\n"), 0o644)
	want("127.0.0.51")
}

// TestGatewayChangeLatency measures the time from a change on the server
// to the gateway's DNS answer, by push and by polling.
func TestGatewayChangeLatency(t *testing.T) {
	p := startSextant(t, "")
	registerOn(t, p, "lat", "127.0.0.51")
	for _, push := range []bool{true, false} {
		cfg := testGatewayConfig(t, p.httpAddr)
		cfg.Services = []string{"lat"}
		cfg.Push = push
		g, _ := startTestGateway(t, cfg)
		dnsAddr := g.dns.UDPAddr()
		waitFor(t, 3*time.Second, "the first list", func() bool {
			ips, _ := answerIPs(t, dnsAddr, "lat.service.nacos.")
			return len(ips) > 0
		})
		var total time.Duration
		rounds := 3
		if !push {
			rounds = 2 // each takes a poll period
		}
		for i := 0; i < rounds; i++ {
			ip := fmt.Sprintf("127.0.1.%d", i+1)
			start := time.Now()
			registerOn(t, p, "lat", ip)
			waitFor(t, 8*time.Second, "the change by DNS", func() bool {
				ips, _ := answerIPs(t, dnsAddr, "lat.service.nacos.")
				return slices.Contains(ips, ip)
			})
			total += time.Since(start)
			deregisterOn(t, p, "lat", ip)
		}
		mean := total / time.Duration(rounds)
		st := gatewayStatus(t, g)
		t.Logf("push=%v: change to DNS answer %v on average over %d changes (pushes applied %d, polls %d)",
			push, mean.Round(time.Millisecond), rounds, st.Counters.PushesApplied, st.Counters.Polls)
		if push && st.Counters.PushesApplied == 0 {
			t.Errorf("push gateway saw no push")
		}
		if !push && st.Counters.PushesReceived != 0 {
			t.Errorf("poll-only gateway received pushes")
		}
		g.Close()
	}
}

// TestGatewayBinary runs `sextant gateway` as a process: it serves DNS and
// its status, and stops cleanly on SIGTERM.
func TestGatewayBinary(t *testing.T) {
	p := startSextant(t, "")
	registerOn(t, p, "web", "127.0.0.51")
	dnsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(sextantBinary(t), "gateway", "--servers", p.httpAddr, "--dns-addr", dnsAddr,
		"--http-addr", httpAddr, "--cache-dir", t.TempDir(), "--services", "web", "--push-addr", "127.0.0.1:0",
		"--client-ip", "127.0.0.1")
	logs := &logBuf{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	})
	waitFor(t, 10*time.Second, "gateway status", func() bool {
		resp, err := httpClient.Get("http://" + httpAddr + "/gateway/status")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	waitFor(t, 3*time.Second, "DNS from the gateway process", func() bool {
		ips, _ := answerIPs(t, dnsAddr, "web.service.nacos.")
		return slices.Equal(ips, []string{"127.0.0.51"})
	})
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("gateway exit: %v\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("gateway did not stop\n%s", logs.String())
	}
}

func TestGatewayShippedConfig(t *testing.T) {
	const path = "../../etc/sextant-gateway.yaml"
	cfg := DefaultGatewayConfig()
	if err := loadConfigFile(path, &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("shipped config does not validate: %v", err)
	}
	b, _ := os.ReadFile(path)
	var scratch string
	flags := gatewayFlags(&GatewayConfig{}, &scratch)
	for _, key := range yamlKeys(reflect.TypeOf(GatewayConfig{})) {
		if !strings.Contains(string(b), "\n"+key+":") {
			t.Errorf("%s does not document key %q", path, key)
		}
		if flags.Lookup(key) == nil {
			t.Errorf("key %q has no flag of the same name", key)
		}
	}
	// The file differs from the defaults only where it says so.
	want := DefaultGatewayConfig()
	want.Servers, want.LoadCacheAtStart = []string{"127.0.0.1:8848"}, true
	cfg.Services, cfg.DNSRecursors = nil, nil
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("shipped config:\n%+v\nwant\n%+v", cfg, want)
	}
}

func TestGatewayFlagsWinOverFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.yaml")
	os.WriteFile(path, []byte("servers: [10.0.0.1:8848]\ndns-ttl: 30s\nservices: [a]\nnamespace: dev\n"), 0o644)
	cfg, _, err := parseGatewayArgs([]string{"--config", path, "--servers", "10.0.0.2:8848, 10.0.0.3", "--services", "g@@b,c"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Servers, []string{"10.0.0.2:8848", "10.0.0.3"}) || cfg.DNSTTL != 30*time.Second ||
		!slices.Equal(cfg.Services, []string{"g@@b", "c"}) || cfg.Namespace != "dev" || cfg.DNSAddr != "127.0.0.1:53" {
		t.Fatalf("merged config %+v", cfg)
	}
	for name, args := range map[string][]string{
		"no servers":    {},
		"unknown flag":  {"--servers", "x:1", "--nope"},
		"bad service":   {"--servers", "x:1", "--services", "a@@b@@c"},
		"bad namespace": {"--servers", "x:1", "--namespace", "a/b"},
		"bad level":     {"--servers", "x:1", "--log-level", "loud"},
		"extra arg":     {"--servers", "x:1", "more"},
	} {
		if _, _, err := parseGatewayArgs(args, io.Discard); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	os.WriteFile(path, []byte("servrs: [x]\n"), 0o644)
	if _, _, err := parseGatewayArgs([]string{"--config", path}, io.Discard); err == nil {
		t.Error("unknown key in file accepted")
	}
}

// TestGatewayMirrorDiff checks the mirror against what the client holds:
// persistent instances keep their class, invalid ones are left out, and a
// service never seen with instances is not created.
func TestGatewayMirrorDiff(t *testing.T) {
	cfg := testGatewayConfig(t, fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	cfg.HTTPAddr = ""
	g, logs := startTestGateway(t, cfg)
	key := naming.NewServiceKey("", "", "m")
	svcOf := func(hosts string) clientService {
		var s clientService
		json.Unmarshal([]byte(`{"name":"DEFAULT_GROUP@@m","hosts":`+hosts+`}`), &s)
		return s
	}
	g.mirrorService(key, svcOf(`[]`))
	if _, ok := g.mirror.Service(key); ok {
		t.Fatal("an empty, unknown service was created")
	}
	g.mirrorService(key, svcOf(`[{"ip":"10.0.0.1","port":80},{"ip":"10.0.0.2","port":80,"ephemeral":false},{"ip":"bad","port":1}]`))
	s, _ := g.mirror.Service(key)
	if len(s.Instances) != 2 || s.Instances[0].Ephemeral != true || s.Instances[1].Ephemeral != false {
		t.Fatalf("mirror %+v", s.Instances)
	}
	if !logs.has("instance left out of the mirror") {
		t.Error("invalid instance not logged")
	}
	rev := s.Revision
	g.mirrorService(key, svcOf(`[{"ip":"10.0.0.1","port":80},{"ip":"10.0.0.2","port":80,"ephemeral":false}]`))
	if s, _ = g.mirror.Service(key); s.Revision != rev {
		t.Fatal("an unchanged list made a new revision")
	}
	g.mirrorService(key, svcOf(`[{"ip":"10.0.0.3","port":80,"ephemeral":false,"weight":2}]`))
	s, _ = g.mirror.Service(key)
	if len(s.Instances) != 1 || s.Instances[0].IP != "10.0.0.3" || s.Instances[0].Weight != 2 {
		t.Fatalf("mirror after change %+v", s.Instances)
	}
}
