package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/nacos-group/nacos-sdk-go/clients"
	"github.com/nacos-group/nacos-sdk-go/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/common/constant"
	"github.com/nacos-group/nacos-sdk-go/vo"

	"sextant/internal/freeport"
)

// clusterPort returns an HTTP port whose Raft port (HTTP - 1000) and own
// UDP/TCP ports are free on 127.0.0.1.
func clusterPort(t *testing.T, taken map[int]bool) int {
	t.Helper()
	p, err := freeport.Pick(taken, -1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startCluster3 runs three real sextant processes that form one cluster.
func startCluster3(t *testing.T) []*proc { t.Helper(); return startClusterN(t, 3) }

// startClusterN runs n real sextant processes that form one cluster, each
// with the extra flags.
func startClusterN(t *testing.T, n int, extra ...string) []*proc {
	t.Helper()
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = "127.0.0.1"
	}
	return startClusterOn(t, hosts, extra...)
}

// startClusterOn runs one member on each of hosts (loopback addresses).
func startClusterOn(t *testing.T, hosts []string, extra ...string) []*proc {
	t.Helper()
	return startClusterWith(t, "", hosts, extra...)
}

// startClusterWith is startClusterOn running bin ("" for this tree's).
func startClusterWith(t *testing.T, bin string, hosts []string, extra ...string) []*proc {
	t.Helper()
	taken := map[int]bool{}
	var addrs []string
	for _, h := range hosts {
		addrs = append(addrs, fmt.Sprintf("%s:%d", h, clusterPort(t, taken)))
	}
	var ps []*proc
	for i, a := range addrs {
		dataDir := t.TempDir()
		p := &proc{t: t, dataDir: dataDir, httpAddr: a, dnsAddr: fmt.Sprintf("%s:%d", hosts[i], freePort(t))}
		p.args = []string{"server", "--http-addr", p.httpAddr, "--dns-addr", p.dnsAddr, "--data-dir", dataDir,
			"--push-target", "source", "--beat-sweep-interval", "100ms", "--members", strings.Join(addrs, ","),
			"--cluster-secret", "test-secret"}
		p.args = append(p.args, extra...)
		p.bin = bin
		p.launch()
		ps = append(ps, p)
	}
	for _, p := range ps {
		p.waitReady()
	}
	return ps
}

func clusterClient(t *testing.T, ps []*proc) naming_client.INamingClient {
	t.Helper()
	dir := t.TempDir()
	var servers []constant.ServerConfig
	for _, p := range ps {
		servers = append(servers, constant.ServerConfig{IpAddr: "127.0.0.1", Port: uint64(p.port()), ContextPath: "/nacos"})
	}
	c, err := clients.NewNamingClient(vo.NacosClientParam{
		ClientConfig:  &constant.ClientConfig{TimeoutMs: 3000, NotLoadCacheAtStart: true, CacheDir: dir + "/cache", LogDir: dir + "/log", LogLevel: "error"},
		ServerConfigs: servers,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (p *proc) hasHealthy(t *testing.T, service, ip string) bool {
	code, body := p.get("/nacos/v1/ns/instance/list", url.Values{"serviceName": {service}})
	if code != 200 {
		return false
	}
	var v struct {
		Hosts []map[string]any `json:"hosts"`
	}
	_ = json.Unmarshal([]byte(body), &v)
	for _, h := range v.Hosts {
		if h["ip"] == ip && h["healthy"] == true {
			return true
		}
	}
	return false
}

func (p *proc) dnsA(service string) []string {
	c := &dns.Client{Timeout: time.Second}
	m := new(dns.Msg)
	m.SetQuestion(service+".service.nacos.", dns.TypeA)
	r, _, err := c.Exchange(m, p.dnsAddr)
	if err != nil {
		return nil
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out
}

// TestClusterEphemeralAcrossNodes: a registration on one node is read on
// the others over HTTP and DNS; killing a node keeps the instance alive
// while its client beats to the survivors; the node restarted empty loads
// everything from its peers.
func TestClusterEphemeralAcrossNodes(t *testing.T) {
	ps := startCluster3(t)
	c := clusterClient(t, ps)
	ok, err := c.RegisterInstance(vo.RegisterInstanceParam{Ip: "127.0.0.61", Port: 8080, ServiceName: "inventory", Weight: 1,
		Enable: true, Healthy: true, Ephemeral: true, Metadata: map[string]string{"preserved.heart.beat.interval": "1000"}})
	if err != nil || !ok {
		t.Fatalf("register: %v", err)
	}
	for _, p := range ps {
		waitFor(t, 10*time.Second, "the instance on "+p.httpAddr, func() bool {
			return p.hasHealthy(t, "DEFAULT_GROUP@@inventory", "127.0.0.61")
		})
		waitFor(t, 5*time.Second, "DNS on "+p.httpAddr, func() bool {
			a := p.dnsA("inventory")
			return len(a) == 1 && a[0] == "127.0.0.61"
		})
	}

	// Kill the node responsible for the service.
	code, body := ps[0].get("/nacos/v1/ns/operator/distro/server", url.Values{"serviceName": {"inventory"}})
	victim := ps[0]
	if code == 200 {
		for _, p := range ps {
			if strings.Contains(body, p.httpAddr) {
				victim = p
			}
		}
	}
	victim.kill()
	var survivors []*proc
	for _, p := range ps {
		if p != victim {
			survivors = append(survivors, p)
		}
	}
	// Beyond the 15 s beat timeout, the instance must still be healthy on
	// every survivor: its client keeps beating to them.
	deadline := time.Now().Add(18 * time.Second)
	for time.Now().Before(deadline) {
		for _, p := range survivors {
			if !p.hasHealthy(t, "DEFAULT_GROUP@@inventory", "127.0.0.61") {
				// A moment of disagreement while ownership moves is allowed;
				// it must heal within a few seconds.
				waitFor(t, 5*time.Second, "instance healthy again on "+p.httpAddr, func() bool {
					return p.hasHealthy(t, "DEFAULT_GROUP@@inventory", "127.0.0.61")
				})
			}
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The victim comes back with empty memory (ephemeral data is memory-only).
	victim.restart()
	if !victim.hasHealthy(t, "DEFAULT_GROUP@@inventory", "127.0.0.61") {
		t.Fatalf("restarted node did not load the instance before reporting ready")
	}
	if a := victim.dnsA("inventory"); len(a) != 1 || a[0] != "127.0.0.61" {
		t.Fatalf("restarted node DNS: %v", a)
	}
}

// TestClusterPersistentThroughRaft: services and persistent instances are
// written through different nodes, survive a leader kill, and a restart of
// every node.
func TestClusterPersistentThroughRaft(t *testing.T) {
	ps := startCluster3(t)
	if code, body := ps[0].do("POST", "/nacos/v1/ns/service", url.Values{"serviceName": {"ledger"}, "protectThreshold": {"0.5"}}); code != 200 {
		t.Fatalf("create service: %d %s", code, body)
	}
	reg := func(p *proc, ip string) (int, string) {
		return p.do("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {"ledger"}, "ip": {ip}, "port": {"9000"}, "ephemeral": {"false"}})
	}
	if code, body := reg(ps[1], "127.0.0.71"); code != 200 {
		t.Fatalf("persistent register via node 2: %d %s", code, body)
	}
	for _, p := range ps {
		waitFor(t, 5*time.Second, "persistent instance on "+p.httpAddr, func() bool {
			return len(p.list(t, "DEFAULT_GROUP@@ledger")) == 1
		})
	}
	leader := raftLeaderOf(ps[0])
	var lp *proc
	var rest []*proc
	for _, p := range ps {
		if p.httpAddr == leader {
			lp = p
		} else {
			rest = append(rest, p)
		}
	}
	if lp == nil {
		t.Fatalf("no leader among the nodes (leader %q)", leader)
	}
	// A consistent read on a follower is sent to the leader; on the leader
	// it is served after the read barrier.
	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://" + rest[0].httpAddr + "/nacos/v1/ns/instance/list?serviceName=ledger&consistent=true")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.HasPrefix(resp.Header.Get("Location"), "http://"+leader+"/") {
		t.Fatalf("consistent read on a follower: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, body := rest[0].get("/nacos/v1/ns/instance/list", url.Values{"serviceName": {"ledger"}, "consistent": {"true"}}); code != 200 || !strings.Contains(body, "127.0.0.71") {
		t.Fatalf("consistent read through the leader: %d %s", code, body)
	}
	lp.kill()
	start := time.Now()
	waitFor(t, 20*time.Second, "a write after the leader died", func() bool {
		code, _ := reg(rest[0], "127.0.0.72")
		return code == 200
	})
	t.Logf("first committed write %v after the leader was killed", time.Since(start).Round(time.Millisecond))

	lp.restart()
	for _, p := range ps {
		if err := p.stop(); err != nil {
			t.Fatalf("stop %s: %v", p.httpAddr, err)
		}
	}
	for _, p := range ps {
		p.launch()
	}
	for _, p := range ps {
		p.waitReady()
	}
	for _, p := range ps {
		waitFor(t, 15*time.Second, "all persistent data after a full restart on "+p.httpAddr, func() bool {
			return len(p.list(t, "DEFAULT_GROUP@@ledger")) == 2
		})
		code, body := p.get("/nacos/v1/ns/service", url.Values{"serviceName": {"ledger"}})
		if code != 200 || !strings.Contains(body, `"protectThreshold":0.5`) {
			t.Fatalf("service after restart on %s: %d %s", p.httpAddr, code, body)
		}
	}
}
