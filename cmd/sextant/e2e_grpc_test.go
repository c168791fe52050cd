package main

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientsv2 "github.com/nacos-group/nacos-sdk-go/v2/clients"
	namingv2 "github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	constv2 "github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	modelv2 "github.com/nacos-group/nacos-sdk-go/v2/model"
	vov2 "github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// grpcPort is the port of the process's gRPC front.
func (p *proc) grpcPort() int {
	_, port, _ := net.SplitHostPort(p.grpcAddr)
	n, _ := strconv.Atoi(port)
	return n
}

// waitGRPC waits until the gRPC front accepts connections (it opens once
// the node is ready, just after readiness turns 200).
func (p *proc) waitGRPC(t *testing.T) {
	t.Helper()
	waitFor(t, 10*time.Second, "gRPC of "+p.httpAddr, func() bool {
		c, err := net.DialTimeout("tcp", p.grpcAddr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// v2Client is a nacos-sdk-go/v2 v2.3.2 client on the given members.
func v2Client(t *testing.T, ps []*proc, user, password string) namingv2.INamingClient {
	t.Helper()
	var servers []constv2.ServerConfig
	for _, p := range ps {
		p.waitGRPC(t)
		servers = append(servers, constv2.ServerConfig{IpAddr: "127.0.0.1", Port: uint64(p.port()), GrpcPort: uint64(p.grpcPort()), ContextPath: "/nacos"})
	}
	return newV2Client(t, servers, user, password)
}

// newV2Client is a nacos-sdk-go/v2 client on servers.
func newV2Client(t *testing.T, servers []constv2.ServerConfig, user, password string) namingv2.INamingClient {
	t.Helper()
	dir := t.TempDir()
	c, err := clientsv2.NewNamingClient(vov2.NacosClientParam{
		ClientConfig: &constv2.ClientConfig{TimeoutMs: 5000, NotLoadCacheAtStart: true, UpdateCacheWhenEmpty: true,
			CacheDir: dir + "/cache", LogDir: dir + "/log", LogLevel: "error", Username: user, Password: password},
		ServerConfigs: servers,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseClient)
	return c
}

// grpcConnections reads sextant_grpc_connections from the node's metrics.
func (p *proc) grpcConnections() int {
	code, body := p.get("/metrics", nil)
	if code != 200 {
		return -1
	}
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "sextant_grpc_connections "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return -1
}

func v2Register(t *testing.T, c namingv2.INamingClient, service, ip string) {
	t.Helper()
	ok, err := c.RegisterInstance(vov2.RegisterInstanceParam{Ip: ip, Port: 8080, ServiceName: service,
		Weight: 1, Enable: true, Healthy: true, Ephemeral: true})
	if err != nil || !ok {
		t.Fatalf("RegisterInstance %s %s over gRPC: %v %v", service, ip, ok, err)
	}
}

// TestGRPCClientsOnACluster: nacos-sdk-go/v2 against three sextant
// processes: a registration over gRPC is seen over HTTP v1 and DNS on every
// member; a subscriber on one member gets pushes of changes made through
// another within 1 s; closing the client removes its instance.
func TestGRPCClientsOnACluster(t *testing.T) {
	ps := startCluster3(t)
	reg := v2Client(t, ps[:1], "", "")
	v2Register(t, reg, "billing", "127.0.0.71")
	for _, p := range ps {
		waitFor(t, 5*time.Second, "the instance over HTTP on "+p.httpAddr, func() bool {
			return p.hasHealthy(t, "DEFAULT_GROUP@@billing", "127.0.0.71")
		})
		waitFor(t, 5*time.Second, "the instance over DNS on "+p.httpAddr, func() bool {
			a := p.dnsA("billing")
			return len(a) == 1 && a[0] == "127.0.0.71"
		})
	}

	sub := v2Client(t, ps[1:2], "", "")
	var mu sync.Mutex
	var last []modelv2.Instance
	if err := sub.Subscribe(&vov2.SubscribeParam{ServiceName: "billing", SubscribeCallback: func(s []modelv2.Instance, err error) {
		mu.Lock()
		last = s
		mu.Unlock()
	}}); err != nil {
		t.Fatal(err)
	}
	has := func(ip string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, in := range last {
				if in.Ip == ip {
					return true
				}
			}
			return false
		}
	}
	waitFor(t, 2*time.Second, "the subscriber's first list", has("127.0.0.71"))
	// A change through the third member, over HTTP v1.
	start := time.Now()
	if code, body := ps[2].do("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {"billing"}, "ip": {"127.0.0.72"},
		"port": {"8080"}, "ephemeral": {"true"}}); code != 200 {
		t.Fatalf("register over HTTP: %d %s", code, body)
	}
	waitFor(t, time.Second, "the push of a change made on another member", has("127.0.0.72"))
	t.Logf("push across members after %v", time.Since(start))

	// Close the registering client: its instance goes, within 1 s on the
	// member it was connected to, and the subscriber hears of it.
	start = time.Now()
	reg.CloseClient()
	waitFor(t, time.Second, "the closed client's instance gone on its member", func() bool {
		return !ps[0].hasHealthy(t, "DEFAULT_GROUP@@billing", "127.0.0.71")
	})
	t.Logf("closed client's instance gone on its member after %v", time.Since(start))
	waitFor(t, 3*time.Second, "the removal pushed", func() bool { return !has("127.0.0.71")() })
	t.Logf("removal pushed to a subscriber on another member after %v", time.Since(start))
}

// TestGRPCClientSurvivesItsMember: the member holding a client's
// connection is killed; the client reconnects to a survivor and its
// instance never leaves the survivors' lists. A member stopped with
// SIGTERM first sends its clients elsewhere.
func TestGRPCClientSurvivesItsMember(t *testing.T) {
	ps := startCluster3(t)
	c := v2Client(t, ps, "", "")
	v2Register(t, c, "payments", "127.0.0.81")
	holder := func() int {
		for i, p := range ps {
			if p.grpcConnections() == 1 {
				return i
			}
		}
		return -1
	}
	waitFor(t, 5*time.Second, "a member holding the connection", func() bool { return holder() >= 0 })
	for _, p := range ps {
		waitFor(t, 5*time.Second, "the instance on "+p.httpAddr, func() bool {
			return p.hasHealthy(t, "DEFAULT_GROUP@@payments", "127.0.0.81")
		})
	}

	// sextant members shows who holds the client.
	h := holder()
	code, out, _ := cli(t, ps[0].httpAddr, "members")
	if r := rowOf(out, ps[h].httpAddr); code != 0 || len(r) == 0 || r[len(r)-1] != "1" {
		t.Fatalf("members: exit %d, holder's row %q in\n%s", code, r, out)
	}

	// SIGKILL: no goodbye.
	ps[h].kill()
	survivors := append(append([]*proc{}, ps[:h]...), ps[h+1:]...)
	watch := func(d time.Duration) {
		t.Helper()
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) {
			for _, p := range survivors {
				if code, _ := p.get("/nacos/v1/ns/instance/list", url.Values{"serviceName": {"payments"}}); code == 200 &&
					!p.hasHealthy(t, "DEFAULT_GROUP@@payments", "127.0.0.81") {
					t.Fatalf("the instance left %s's list (or turned unhealthy)", p.httpAddr)
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	watch(20 * time.Second) // past the beat timeout (15 s) of the old holder's last renewal
	waitFor(t, 5*time.Second, "the client on a survivor", func() bool {
		n := 0
		for _, p := range survivors {
			n += max(p.grpcConnections(), 0)
		}
		return n == 1
	})

	// SIGTERM the new holder: it resets its clients before stopping.
	var nh *proc
	for _, p := range survivors {
		if p.grpcConnections() == 1 {
			nh = p
		}
	}
	if err := nh.stop(); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	for _, p := range survivors {
		if p != nh {
			survivors = []*proc{p}
		}
	}
	waitFor(t, 5*time.Second, "the client moved to the last member", func() bool { return survivors[0].grpcConnections() == 1 })
	watch(3 * time.Second)
	if !strings.Contains(nh.logs.String(), "move to another member") {
		t.Fatalf("the stopped member did not reset its clients:\n%s", nh.logs.String())
	}
}

// TestGRPCAuth: with access control on, a client with a login registers
// and subscribes over gRPC; one without is refused with 403.
func TestGRPCAuth(t *testing.T) {
	p := startSextant(t, "", "--auth-enabled", "--auth-admin-password", "admin-pass-1")
	waitFor(t, 10*time.Second, "the first administrator", func() bool {
		code, _ := p.do("POST", "/nacos/v1/auth/users/login", url.Values{"username": {"nacos"}, "password": {"admin-pass-1"}})
		return code == 200
	})
	c := v2Client(t, []*proc{p}, "nacos", "admin-pass-1")
	v2Register(t, c, "vault", "127.0.0.91")
	all, err := c.SelectAllInstances(vov2.SelectAllInstancesParam{ServiceName: "vault"})
	if err != nil || len(all) != 1 {
		t.Fatalf("list with a login: %v %+v", err, all)
	}
	anon := v2Client(t, []*proc{p}, "", "")
	if ok, err := anon.RegisterInstance(vov2.RegisterInstanceParam{Ip: "127.0.0.92", Port: 8080, ServiceName: "vault",
		Weight: 1, Enable: true, Healthy: true, Ephemeral: true}); err == nil && ok {
		t.Fatal("register without a login succeeded")
	}
	code, body := p.get("/nacos/v1/ns/instance/list", url.Values{"serviceName": {"vault"}, "username": {"nacos"}, "password": {"admin-pass-1"}})
	if code != 200 || strings.Contains(body, "127.0.0.92") || !strings.Contains(body, "127.0.0.91") {
		t.Fatalf("list after the refused register: %d %s", code, body)
	}
	if !strings.Contains(metricLine(p, `sextant_grpc_requests_total{result="403",type="InstanceRequest"}`), "sextant_grpc") {
		t.Fatal("the refusal is not in the metrics")
	}
}

// metricLine returns the exposition line that starts with prefix.
func metricLine(p *proc, prefix string) string {
	_, body := p.get("/metrics", nil)
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return fmt.Sprintf("no %s", prefix)
}

// v2ClientEnv makes the test binary a nacos-sdk-go/v2 client that
// registers one instance and then waits to be killed; its value is
// "<http port>,<grpc port>,<service>,<ip>".
const v2ClientEnv = "SEXTANT_TEST_V2_CLIENT"

func runV2Client(spec string) int {
	var httpPort, grpcPort uint64
	var service, ip string
	parts := strings.Split(spec, ",")
	if len(parts) != 4 {
		fmt.Fprintln(os.Stderr, "bad spec", spec)
		return 2
	}
	httpPort, _ = strconv.ParseUint(parts[0], 10, 16)
	grpcPort, _ = strconv.ParseUint(parts[1], 10, 16)
	service, ip = parts[2], parts[3]
	dir, err := os.MkdirTemp("", "sextant-v2-client")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c, err := clientsv2.NewNamingClient(vov2.NacosClientParam{
		ClientConfig: &constv2.ClientConfig{TimeoutMs: 5000, NotLoadCacheAtStart: true, CacheDir: dir + "/cache",
			LogDir: dir + "/log", LogLevel: "error"},
		ServerConfigs: []constv2.ServerConfig{{IpAddr: "127.0.0.1", Port: httpPort, GrpcPort: grpcPort}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ok, err := c.RegisterInstance(vov2.RegisterInstanceParam{Ip: ip, Port: 8080, ServiceName: service,
		Weight: 1, Enable: true, Healthy: true, Ephemeral: true})
	if err != nil || !ok {
		fmt.Fprintln(os.Stderr, "register:", ok, err)
		return 1
	}
	fmt.Println("registered")
	select {} // until killed
}

// TestGRPCKilledClientsInstanceGoes: a client process killed with SIGKILL
// (its kernel closes the connection) loses its instance.
func TestGRPCKilledClientsInstanceGoes(t *testing.T) {
	p := startSextant(t, "")
	p.waitGRPC(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%d,killed,127.0.0.95", v2ClientEnv, p.port(), p.grpcPort()))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "registered" {
		t.Fatalf("client: %q %v", line, err)
	}
	if !p.hasHealthy(t, "DEFAULT_GROUP@@killed", "127.0.0.95") {
		t.Fatal("the client's instance is not listed")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, 2*time.Second, "the killed client's instance gone", func() bool {
		return !p.hasHealthy(t, "DEFAULT_GROUP@@killed", "127.0.0.95")
	})
	t.Logf("gone %v after SIGKILL", time.Since(start))
}
