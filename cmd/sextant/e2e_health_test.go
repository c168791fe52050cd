package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// probeFlags shorten the probe interval so flips land within a second.
var probeFlags = []string{"--health-check-interval", "300ms", "--health-check-tcp-timeout", "200ms", "--health-check-http-timeout", "200ms"}

// listenAt listens on addr, retrying briefly while the port is released.
func listenAt(t *testing.T, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("listen %s: %v", addr, err)
	return nil
}

// acceptAndClose serves ln until it is closed.
func acceptAndClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// hostOf returns the host of ip in instance/list, or nil.
func hostOf(hosts []map[string]any, ip string) map[string]any {
	for _, h := range hosts {
		if h["ip"] == ip {
			return h
		}
	}
	return nil
}

// aRecords returns the addresses of an A query.
func aRecords(t *testing.T, p *proc, name string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, rr := range dnsQuery(t, p.dnsAddr, name, dns.TypeA, false).Answer {
		if a, ok := rr.(*dns.A); ok {
			out[a.A.String()] = true
		}
	}
	return out
}

// lastCheck returns the lastCheck of GET /instance; nil when there is none
// or the node does not know the instance (yet).
func lastCheck(t *testing.T, p *proc, params url.Values) map[string]any {
	t.Helper()
	code, body := p.get("/nacos/v1/ns/instance", params)
	if code != 200 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("GET /instance body %q: %v", body, err)
	}
	lc, _ := m["lastCheck"].(map[string]any)
	return lc
}

// TestPersistentInstanceProbedEndToEnd registers a persistent instance at a
// TCP listener on 127.0.0.61, closes the listener and expects the binary to
// mark the instance unhealthy and drop it from DNS while keeping it
// registered, then to bring it back when the listener reopens.
func TestPersistentInstanceProbedEndToEnd(t *testing.T) {
	p := startSextant(t, "", probeFlags...)
	ln := listenAt(t, "127.0.0.61:0")
	go acceptAndClose(ln)
	addr := ln.Addr().String()
	defer func() { ln.Close() }()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	inst := url.Values{"serviceName": {"db"}, "ip": {"127.0.0.61"}, "port": {port}}
	reg := url.Values{"serviceName": {"db"}, "ip": {"127.0.0.61"}, "port": {port}, "ephemeral": {"false"}}
	if code, body := p.do("POST", "/nacos/v1/ns/instance", reg); code != 200 {
		t.Fatalf("register: %d %s", code, body)
	}
	waitFor(t, 10*time.Second, "a good probe", func() bool {
		lc := lastCheck(t, p, inst)
		return lc != nil && lc["ok"] == true
	})
	if !aRecords(t, p, "db.service.nacos.")["127.0.0.61"] {
		t.Fatal("healthy instance not in DNS")
	}

	ln.Close()
	closed := time.Now()
	waitFor(t, 10*time.Second, "the instance to turn unhealthy", func() bool {
		h := hostOf(p.list(t, "db"), "127.0.0.61")
		return h != nil && h["healthy"] == false
	})
	t.Logf("unhealthy %v after the listener closed (interval 300ms, timeout 200ms)", time.Since(closed))
	if a := aRecords(t, p, "db.service.nacos."); len(a) != 0 {
		t.Fatalf("unhealthy instance still in DNS: %v", a)
	}
	if lc := lastCheck(t, p, inst); lc == nil || lc["ok"] != false || lc["reason"] != "connection refused" {
		t.Fatalf("lastCheck after close: %v", lc)
	}
	// Stays registered through more failed probes.
	first, _ := lastCheck(t, p, inst)["time"].(float64)
	waitFor(t, 10*time.Second, "three more probes", func() bool {
		tm, _ := lastCheck(t, p, inst)["time"].(float64)
		return tm >= first+900
	})
	if h := hostOf(p.list(t, "db"), "127.0.0.61"); h == nil || h["healthy"] != false || h["ephemeral"] != false {
		t.Fatalf("after more failed probes: %v", h)
	}

	ln = listenAt(t, addr)
	go acceptAndClose(ln)
	waitFor(t, 10*time.Second, "the instance to turn healthy again", func() bool {
		h := hostOf(p.list(t, "db"), "127.0.0.61")
		return h != nil && h["healthy"] == true
	})
	waitFor(t, 5*time.Second, "the instance back in DNS", func() bool {
		return aRecords(t, p, "db.service.nacos.")["127.0.0.61"]
	})
}

// TestHTTPCheckAndProtectThresholdEndToEnd switches a cluster to an HTTP
// check through PUT /cluster, makes one of two instances answer 500, and
// checks the protect threshold in instance/list and DNS.
func TestHTTPCheckAndProtectThresholdEndToEnd(t *testing.T) {
	p := startSextant(t, "", probeFlags...)
	var status [2]atomic.Int32
	ips := []string{"127.0.0.71", "127.0.0.72"}
	ports := make([]string, len(ips))
	for i, ip := range ips {
		status[i].Store(200)
		ln := listenAt(t, ip+":0")
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/health" {
				w.WriteHeader(404)
				return
			}
			w.WriteHeader(int(status[i].Load()))
		})}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		ports[i] = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		if code, body := p.do("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {"web"}, "ip": {ip},
			"port": {ports[i]}, "ephemeral": {"false"}}); code != 200 {
			t.Fatalf("register: %d %s", code, body)
		}
	}
	if code, body := p.do("PUT", "/nacos/v1/ns/cluster", url.Values{"serviceName": {"web"}, "clusterName": {"DEFAULT"},
		"checkPort": {"0"}, "useInstancePort4Check": {"true"}, "healthChecker": {`{"type":"HTTP","path":"/health","headers":""}`},
		"checkInterval": {"300"}}); code != 200 {
		t.Fatalf("PUT /cluster: %d %s", code, body)
	}
	if code, body := p.do("PUT", "/nacos/v1/ns/service", url.Values{"serviceName": {"web"}, "protectThreshold": {"0.6"}}); code != 200 {
		t.Fatalf("PUT /service: %d %s", code, body)
	}
	healthyList := func() (hosts []map[string]any, reached bool) {
		code, body := p.get("/nacos/v1/ns/instance/list", url.Values{"serviceName": {"web"}, "healthyOnly": {"true"}})
		if code != 200 {
			t.Fatalf("list: %d %s", code, body)
		}
		var v struct {
			Hosts   []map[string]any `json:"hosts"`
			Reached bool             `json:"reachProtectionThreshold"`
		}
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		return v.Hosts, v.Reached
	}
	waitFor(t, 10*time.Second, "HTTP probes", func() bool {
		lc := lastCheck(t, p, url.Values{"serviceName": {"web"}, "ip": {ips[1]}, "port": {ports[1]}})
		return lc != nil && lc["reason"] == "HTTP 200"
	})

	status[1].Store(500)
	// instance/list presents every host as healthy while the threshold is
	// reached; GET /instance shows the stored health.
	waitFor(t, 10*time.Second, "the 500 instance to turn unhealthy", func() bool {
		code, body := p.get("/nacos/v1/ns/instance", url.Values{"serviceName": {"web"}, "ip": {ips[1]}, "port": {ports[1]}})
		var m map[string]any
		return code == 200 && json.Unmarshal([]byte(body), &m) == nil && m["healthy"] == false
	})
	if lc := lastCheck(t, p, url.Values{"serviceName": {"web"}, "ip": {ips[1]}, "port": {ports[1]}}); lc["reason"] != "HTTP 500" {
		t.Fatalf("lastCheck %v", lc)
	}
	// 1 of 2 healthy is below 0.6: every enabled instance is served.
	hosts, reached := healthyList()
	if !reached || len(hosts) != 2 {
		t.Fatalf("protected list: reached=%v hosts=%v", reached, hosts)
	}
	if a := aRecords(t, p, "web.service.nacos."); !a[ips[0]] || !a[ips[1]] {
		t.Fatalf("protected DNS answer: %v", a)
	}
	// Threshold off: only the healthy one.
	if code, body := p.do("PUT", "/nacos/v1/ns/service", url.Values{"serviceName": {"web"}, "protectThreshold": {"0"}}); code != 200 {
		t.Fatalf("PUT /service: %d %s", code, body)
	}
	hosts, reached = healthyList()
	if reached || len(hosts) != 1 || hosts[0]["ip"] != ips[0] {
		t.Fatalf("unprotected list: reached=%v hosts=%v", reached, hosts)
	}
	if a := aRecords(t, p, "web.service.nacos."); len(a) != 1 || !a[ips[0]] {
		t.Fatalf("unprotected DNS answer: %v", a)
	}

	status[1].Store(200)
	waitFor(t, 10*time.Second, "the instance to recover", func() bool {
		return len(aRecords(t, p, "web.service.nacos.")) == 2
	})
}

// startProbeCluster runs three sextant processes forming one cluster, with
// short probe intervals.
func startProbeCluster(t *testing.T) []*proc {
	t.Helper()
	taken := map[int]bool{}
	var addrs []string
	for i := 0; i < 3; i++ {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", clusterPort(t, taken)))
	}
	var ps []*proc
	for _, a := range addrs {
		dataDir := t.TempDir()
		p := &proc{t: t, dataDir: dataDir, httpAddr: a, dnsAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
		p.args = append([]string{"server", "--http-addr", p.httpAddr, "--dns-addr", p.dnsAddr, "--data-dir", dataDir,
			"--members", strings.Join(addrs, ","), "--cluster-secret", "test-secret"}, probeFlags...)
		p.launch()
		ps = append(ps, p)
	}
	for _, p := range ps {
		p.waitReady()
	}
	return ps
}

// TestClusterProbeOwnerTakeover: in a 3-node cluster only the owner of a
// service probes its persistent instance; when the owner is killed, another
// node takes over and flips still reach every surviving node and its DNS.
func TestClusterProbeOwnerTakeover(t *testing.T) {
	ps := startProbeCluster(t)
	ln := listenAt(t, "127.0.0.91:0")
	go acceptAndClose(ln)
	addr := ln.Addr().String()
	defer func() { ln.Close() }()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	inst := url.Values{"serviceName": {"pg"}, "ip": {"127.0.0.91"}, "port": {port}}
	reg := url.Values{"serviceName": {"pg"}, "ip": {"127.0.0.91"}, "port": {port}, "ephemeral": {"false"}}
	waitFor(t, 10*time.Second, "registration", func() bool {
		code, _ := ps[0].do("POST", "/nacos/v1/ns/instance", reg)
		return code == 200
	})
	// Before any flip only the prober has a last check to show.
	var owner *proc
	var rest []*proc
	waitFor(t, 10*time.Second, "one node probing", func() bool {
		owner, rest = nil, nil
		for _, p := range ps {
			if lc := lastCheck(t, p, inst); lc != nil && lc["ok"] == true {
				if owner != nil {
					t.Fatalf("both %s and %s probe the instance", owner.httpAddr, p.httpAddr)
				}
				owner = p
			} else {
				rest = append(rest, p)
			}
		}
		return owner != nil
	})
	owner.kill()
	ln.Close()
	killed := time.Now()
	for _, p := range rest {
		waitFor(t, 30*time.Second, "unhealthy on "+p.httpAddr, func() bool {
			h := hostOf(p.list(t, "pg"), "127.0.0.91")
			return h != nil && h["healthy"] == false && len(p.dnsA("pg")) == 0
		})
	}
	t.Logf("flip seen on both survivors %v after the prober was killed", time.Since(killed).Round(time.Millisecond))
	ln = listenAt(t, addr)
	go acceptAndClose(ln)
	for _, p := range rest {
		waitFor(t, 10*time.Second, "healthy again on "+p.httpAddr, func() bool {
			return p.hasHealthy(t, "pg", "127.0.0.91") && len(p.dnsA("pg")) == 1
		})
	}
}
