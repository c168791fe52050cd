package dnsfront

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/sirupsen/logrus"

	"sextant/naming"
)

var _ naming.ServiceReader = (*naming.Catalog)(nil)

func quietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

func key(name string) naming.ServiceKey {
	return naming.ServiceKey{Namespace: naming.DefaultNamespace, Group: naming.DefaultGroup, Name: name}
}

// inst is a healthy, enabled instance of weight 1 in cluster DEFAULT.
func inst(ip string, port int) *naming.Instance {
	return &naming.Instance{IP: ip, Port: port, Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}
}

func register(t testing.TB, c *naming.Catalog, k naming.ServiceKey, in *naming.Instance) {
	t.Helper()
	if err := c.Apply(naming.Op{Kind: naming.OpRegister, Time: 1000, Service: k, Instance: in}); err != nil {
		t.Fatalf("register %v %s: %v", k, in.IP, err)
	}
}

func createService(t testing.TB, c *naming.Catalog, k naming.ServiceKey, threshold float64) {
	t.Helper()
	op := naming.Op{Kind: naming.OpCreateService, Time: 1000, Service: k, Meta: &naming.ServiceMeta{ProtectThreshold: threshold}}
	if err := c.Apply(op); err != nil {
		t.Fatalf("create %v: %v", k, err)
	}
}

// bigService registers n instances 10.1.x.y:8080 (distinct addresses).
func bigService(t testing.TB, c *naming.Catalog, name string, n int) {
	for i := 0; i < n; i++ {
		register(t, c, key(name), inst(fmt.Sprintf("10.1.%d.%d", i/250, i%250+1), 8080))
	}
}

func newServer(t testing.TB, src naming.ServiceReader, change func(*Config)) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	if change != nil {
		change(&cfg)
	}
	s, err := New(cfg, src, quietLog())
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func startServer(t testing.TB, src naming.ServiceReader, change func(*Config)) *Server {
	t.Helper()
	s := newServer(t, src, change)
	if err := s.Start(t.Context()); err != nil {
		t.Fatalf("start: %v", err)
	}
	return s
}

// question builds a query; bufsize 0 sends no OPT record.
func question(name string, qtype uint16, bufsize uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if bufsize > 0 {
		m.SetEdns0(bufsize, false)
	}
	return m
}

// strs returns the records in presentation form, sorted, OPT left out.
func strs(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr.String())
		}
	}
	sort.Strings(out)
	return out
}

// zoneText parses records written in zone-file text and returns them like strs.
func zoneText(t testing.TB, lines ...string) []string {
	t.Helper()
	var rrs []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("bad test record %q: %v", l, err)
		}
		rrs = append(rrs, rr)
	}
	return strs(rrs)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("pack: %v\n%v", err, m)
	}
	return b
}

// checkGlue fails unless every SRV target in the answer has an address
// record in Additional owned by exactly the same spelling.
func checkGlue(t testing.TB, m *dns.Msg) {
	t.Helper()
	glue := map[string]bool{}
	for _, rr := range m.Extra {
		switch rr.(type) {
		case *dns.A, *dns.AAAA:
			glue[rr.Header().Name] = true
		}
	}
	for _, rr := range m.Answer {
		if srv, ok := rr.(*dns.SRV); ok && !glue[srv.Target] {
			t.Errorf("SRV target %s has no address record in Additional", srv.Target)
		}
	}
}

func waitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
