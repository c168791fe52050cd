package main

import (
	"fmt"
	"math/rand"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// testNet is a small network of its own: a bridge in one namespace, one
// namespace per node joined to it by a veth pair, and a veth from the test's
// namespace so the test can reach the nodes. Addresses come from a /24
// picked at random in 198.18.0.0/15 (RFC 2544's benchmarking range), so
// that test runs in other processes at the same time use other subnets and
// their routes do not mix, and they exist only inside these namespaces.
type testNet struct {
	t      *testing.T
	prefix string
	nodes  int
	subnet int // 0-511: the /24 inside 198.18.0.0/15
}

func (n *testNet) ns(i int) string   { return fmt.Sprintf("%s-n%d", n.prefix, i) }
func (n *testNet) br() string        { return n.prefix + "-br" }
func (n *testNet) addr(i int) string { return n.host(i + 1) }

// host returns address h of the network's /24.
func (n *testNet) host(h int) string {
	return fmt.Sprintf("198.%d.%d.%d", 18+n.subnet/256, n.subnet%256, h)
}

func (n *testNet) run(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (n *testNet) must(args ...string) {
	n.t.Helper()
	if err := n.run(args...); err != nil {
		n.t.Fatal(err)
	}
}

// newTestNet builds the network, or skips the test when this machine cannot
// make namespaces (not root, no ip tool, no netns support).
func newTestNet(t *testing.T, nodes int) *testNet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root; this test runs in CI, which runs as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("the ip tool (iproute2) is not installed")
	}
	n := &testNet{t: t, prefix: fmt.Sprintf("sx%05d", rand.Intn(100000)), nodes: nodes, subnet: rand.Intn(512)}
	if err := n.run("netns", "add", n.br()); err != nil {
		t.Skipf("cannot create network namespaces here: %v", err)
	}
	t.Cleanup(n.destroy)
	n.must("-n", n.br(), "link", "add", "br0", "type", "bridge")
	n.must("-n", n.br(), "link", "set", "br0", "up")
	for i := 0; i < nodes; i++ {
		n.must("netns", "add", n.ns(i))
		n.must("-n", n.ns(i), "link", "set", "lo", "up")
		n.plug(fmt.Sprintf("%sv%d", n.prefix, i), n.ns(i), n.addr(i))
	}
	// The test's own leg, so that it reaches every node directly.
	n.plug(n.prefix+"vt", "", n.host(100))
	return n
}

// plug connects a namespace (or the test's own when ns is "") to the bridge.
func (n *testNet) plug(name, ns, addr string) {
	peer := name + "b"
	n.must("link", "add", name, "type", "veth", "peer", "name", peer)
	n.must("link", "set", peer, "netns", n.br())
	n.must("-n", n.br(), "link", "set", peer, "master", "br0")
	n.must("-n", n.br(), "link", "set", peer, "up")
	if ns != "" {
		n.must("link", "set", name, "netns", ns)
		n.must("-n", ns, "addr", "add", addr+"/24", "dev", name)
		n.must("-n", ns, "link", "set", name, "up")
		return
	}
	n.must("addr", "add", addr+"/24", "dev", name)
	n.must("link", "set", name, "up")
}

// members lists every node's HTTP address (port 8848).
func (n *testNet) members() []string {
	var out []string
	for i := 0; i < n.nodes; i++ {
		out = append(out, n.addr(i)+":8848")
	}
	return out
}

// proc returns, not started, the process of node i in its namespace:
// HTTP on port 8848, DNS on 8600 and gRPC on 9848 of its address, a fresh
// data dir, every node as a member, then extra flags.
func (n *testNet) proc(i int, secret string, extra ...string) *proc {
	dataDir := n.t.TempDir()
	p := &proc{t: n.t, dataDir: dataDir, httpAddr: n.addr(i) + ":8848", dnsAddr: n.addr(i) + ":8600",
		grpcAddr: n.addr(i) + ":9848", wrap: []string{"ip", "netns", "exec", n.ns(i)}}
	p.args = append([]string{"server", "--http-addr", p.httpAddr, "--dns-addr", p.dnsAddr, "--grpc-addr", p.grpcAddr,
		"--data-dir", dataDir, "--members", strings.Join(n.members(), ","), "--cluster-secret", secret}, extra...)
	return p
}

// cut takes node i off the network of its peers (blackhole routes to each
// of them in its namespace, so neither side gets answers); the test's own
// address still reaches it. heal removes the routes.
func (n *testNet) cut(i int) { n.routes(i, "add") }

func (n *testNet) heal(i int) { n.routes(i, "del") }

// cutLink cuts only the link between nodes i and j (blackhole routes to
// each other in both namespaces); a third node still reaches both.
// healLink removes the routes.
func (n *testNet) cutLink(i, j int) { n.link(i, j, "add") }

func (n *testNet) healLink(i, j int) { n.link(i, j, "del") }

func (n *testNet) link(i, j int, verb string) {
	n.t.Helper()
	n.must("-n", n.ns(i), "route", verb, "blackhole", n.addr(j)+"/32")
	n.must("-n", n.ns(j), "route", verb, "blackhole", n.addr(i)+"/32")
}

func (n *testNet) routes(i int, verb string) {
	n.t.Helper()
	for j := 0; j < n.nodes; j++ {
		if j != i {
			n.must("-n", n.ns(i), "route", verb, "blackhole", n.addr(j)+"/32")
		}
	}
}

// cutOutbound stops every connection node i opens to its peers' HTTP and
// Raft ports (8848, 7848), while connections they open to it, and its
// answers on them, still pass: a node that takes traffic but cannot send
// any of its own. Its packets to those ports go to an HTB class limited to
// 8 bit/s with a one-packet queue, since this kernel may lack the drop
// action; healOutbound removes it.
func (n *testNet) cutOutbound(i int) {
	n.t.Helper()
	dev := fmt.Sprintf("%sv%d", n.prefix, i)
	tc := func(args ...string) {
		n.t.Helper()
		n.must(append([]string{"netns", "exec", n.ns(i), "tc"}, args...)...)
	}
	tc("qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "10")
	tc("class", "add", "dev", dev, "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit")
	tc("class", "add", "dev", dev, "parent", "1:", "classid", "1:20", "htb", "rate", "8bit", "ceil", "8bit")
	tc("qdisc", "add", "dev", dev, "parent", "1:20", "handle", "20:", "tbf", "rate", "8bit", "burst", "1", "limit", "1")
	for _, port := range []string{"8848", "7848"} {
		tc("filter", "add", "dev", dev, "parent", "1:", "protocol", "ip", "prio", "1", "u32", "match", "ip", "dport", port, "0xffff", "flowid", "1:20")
	}
}

func (n *testNet) healOutbound(i int) {
	n.t.Helper()
	n.must("netns", "exec", n.ns(i), "tc", "qdisc", "del", "dev", fmt.Sprintf("%sv%d", n.prefix, i), "root")
}

func (n *testNet) destroy() {
	_ = n.run("link", "del", n.prefix+"vt")
	for i := 0; i < n.nodes; i++ {
		_ = n.run("netns", "del", n.ns(i))
	}
	_ = n.run("netns", "del", n.br())
}

// TestClusterNodeCutOffAndReconnected runs three nodes in namespaces of
// their own, cuts one off the network, writes on the majority side, and
// checks that the cut node refuses CP writes within a bounded time while
// still serving reads, then catches up once reconnected.
func TestClusterNodeCutOffAndReconnected(t *testing.T) {
	net := newTestNet(t, 3)
	var ps []*proc
	for i := 0; i < 3; i++ {
		p := net.proc(i, "netns-secret", "--push-target", "source",
			"--dns-rate-limit", "0") // queries come from outside loopback
		p.launch()
		ps = append(ps, p)
	}
	for _, p := range ps {
		p.waitReady()
	}
	reg := func(p *proc, ip string, ephemeral bool) (int, string) {
		return p.do("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {"edge"}, "ip": {ip}, "port": {"80"},
			"ephemeral": {fmt.Sprint(ephemeral)}})
	}
	if code, body := reg(ps[0], "127.0.0.81", false); code != 200 {
		t.Fatalf("persistent register: %d %s", code, body)
	}
	for _, p := range ps {
		waitFor(t, 10*time.Second, "first instance on "+p.httpAddr, func() bool { return len(p.list(t, "DEFAULT_GROUP@@edge")) == 1 })
	}

	net.cut(2)
	// On the majority side, writes go on.
	waitFor(t, 15*time.Second, "a write on the majority side", func() bool {
		code, _ := reg(ps[0], "127.0.0.82", false)
		return code == 200
	})
	// The cut node still answers reads from memory, and a CP write there
	// fails within a bounded time rather than hanging or succeeding.
	if hosts := ps[2].list(t, "DEFAULT_GROUP@@edge"); len(hosts) != 1 {
		t.Fatalf("cut node should still serve the data it had: %v", hosts)
	}
	start := time.Now()
	code, body := reg(ps[2], "127.0.0.83", false)
	took := time.Since(start)
	if code == 200 {
		t.Fatalf("a CP write on the isolated node succeeded: %s", body)
	}
	if took > 15*time.Second {
		t.Fatalf("the refused CP write took %v", took)
	}
	t.Logf("isolated node refused a CP write after %v with %d %q", took.Round(time.Millisecond), code, body)

	net.heal(2)
	waitFor(t, 30*time.Second, "the reconnected node to catch up", func() bool {
		hosts := ps[2].list(t, "DEFAULT_GROUP@@edge")
		return len(hosts) == 2
	})
	// And the ephemeral side: a registration made on the majority side
	// reaches it too.
	if code, body := reg(ps[1], "127.0.0.84", true); code != 200 {
		t.Fatalf("ephemeral register: %d %s", code, body)
	}
	waitFor(t, 15*time.Second, "the ephemeral instance on the reconnected node", func() bool {
		return len(ps[2].list(t, "DEFAULT_GROUP@@edge")) == 3
	})
}
