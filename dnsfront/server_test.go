package dnsfront

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"sextant/naming"
)

// exchange sends m to the server over udp or tcp with the miekg client.
func exchange(t *testing.T, s *Server, m *dns.Msg, network string) *dns.Msg {
	t.Helper()
	addr := s.UDPAddr()
	if network == "tcp" {
		addr = s.TCPAddr()
	}
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	resp, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s: %v", network, m.Question[0].Name, err)
	}
	return resp
}

// rawUDP sends bytes and returns the reply, or nil when none comes within wait.
func rawUDP(t *testing.T, addr string, b []byte, wait time.Duration) []byte {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := conn.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func TestServerAnswersOverBothTransports(t *testing.T) {
	s := startServer(t, fixture(t), nil)
	if u, tc := s.UDPAddr(), s.TCPAddr(); u == "" || u != tc {
		t.Fatalf("udp %q and tcp %q should share one address", u, tc)
	}
	for _, network := range []string{"udp", "tcp"} {
		srv := exchange(t, s, question("_orders._tcp.service.nacos.", dns.TypeSRV, 1232), network)
		if srv.Rcode != dns.RcodeSuccess || !srv.Authoritative || len(srv.Answer) != 3 || len(srv.Extra) != 4 {
			t.Errorf("%s SRV: %v", network, srv)
		}
		checkGlue(t, srv)
		// Unhealthy, disabled and weight-0 instances are left out.
		a := exchange(t, s, question("orders.service.nacos.", dns.TypeA, 0), network)
		if got, want := strs(a.Answer), zoneText(t, ordersA...); !equal(got, want) {
			t.Errorf("%s A: %q", network, got)
		}
		// Protect threshold reached: the unhealthy ones are served too.
		if g := exchange(t, s, question("guarded.service.nacos.", dns.TypeA, 0), network); len(g.Answer) != 3 {
			t.Errorf("%s protected: %v", network, g)
		}
		if nx := exchange(t, s, question("nosuch.service.nacos.", dns.TypeA, 0), network); nx.Rcode != dns.RcodeNameError || len(nx.Ns) != 1 {
			t.Errorf("%s NXDOMAIN: %v", network, nx)
		}
		if nd := exchange(t, s, question("orders.service.nacos.", dns.TypeAAAA, 0), network); nd.Rcode != dns.RcodeSuccess || len(nd.Answer) != 0 || len(nd.Ns) != 1 {
			t.Errorf("%s NODATA: %v", network, nd)
		}
		bad := question("orders.service.nacos.", dns.TypeA, 1232)
		bad.IsEdns0().SetVersion(1)
		if bv := exchange(t, s, bad, network); bv.Rcode != dns.RcodeBadVers || len(bv.Answer) != 0 || bv.IsEdns0() == nil {
			t.Errorf("%s BADVERS: %v", network, bv)
		}
		if rf := exchange(t, s, question("example.com.", dns.TypeA, 0), network); rf.Rcode != dns.RcodeRefused {
			t.Errorf("%s REFUSED: %v", network, rf)
		}
		q := question("oRdErS.sErViCe.nacos.", dns.TypeA, 0)
		if ce := exchange(t, s, q, network); ce.Question[0].Name != "oRdErS.sErViCe.nacos." || len(ce.Answer) != 1 {
			t.Errorf("%s case echo: %v", network, ce)
		}
	}
}

func TestServerTruncatesUDPAndServesTCP(t *testing.T) {
	c := naming.NewCatalog()
	bigService(t, c, "big", 60)
	s := startServer(t, c, nil)

	req := question("_big._tcp.service.nacos.", dns.TypeSRV, 4096)
	wire := rawUDP(t, s.UDPAddr(), pack(t, req), 2*time.Second)
	if wire == nil {
		t.Fatal("no UDP reply")
	}
	if len(wire) > 1232 {
		t.Errorf("UDP reply of %d bytes, cap is 1232", len(wire))
	}
	udp := new(dns.Msg)
	if err := udp.Unpack(wire); err != nil {
		t.Fatal(err)
	}
	if !udp.Truncated || len(udp.Answer) == 0 || len(udp.Answer) >= 60 {
		t.Errorf("UDP: tc=%v %d answers", udp.Truncated, len(udp.Answer))
	}
	checkGlue(t, udp)

	tcp := exchange(t, s, req, "tcp")
	if tcp.Truncated || len(tcp.Answer) != 60 || len(tcp.Extra) != 61 {
		t.Errorf("TCP: tc=%v %d answers %d additional", tcp.Truncated, len(tcp.Answer), len(tcp.Extra))
	}
	checkGlue(t, tcp)
}

func TestServerChangeVisibleAtOnce(t *testing.T) {
	c := naming.NewCatalog()
	s := startServer(t, c, nil)
	for i, ip := range []string{"10.7.0.1", "10.7.0.2", "10.7.0.3"} {
		register(t, c, key("live"), inst(ip, 80))
		if resp := exchange(t, s, question("live.service.nacos.", dns.TypeA, 0), "udp"); len(resp.Answer) != i+1 {
			t.Fatalf("after registering %s: %v", ip, resp)
		}
	}
	op := naming.Op{Kind: naming.OpDeregister, Time: 2000, Service: key("live"),
		Target: naming.InstanceKey{IP: "10.7.0.2", Port: 80, Cluster: naming.DefaultCluster}}
	if err := c.Apply(op); err != nil {
		t.Fatal(err)
	}
	resp := exchange(t, s, question("live.service.nacos.", dns.TypeA, 0), "udp")
	for _, rr := range resp.Answer {
		if rr.(*dns.A).A.String() == "10.7.0.2" {
			t.Errorf("deregistered instance still served: %v", resp)
		}
	}
}

func TestServerShufflesAcrossQueries(t *testing.T) {
	s := startServer(t, fixture(t), nil)
	seen := map[string]bool{}
	for i := 0; i < 200 && len(seen) < 2; i++ {
		resp := exchange(t, s, question("orders.service.nacos.", dns.TypeA, 0), "udp")
		var b strings.Builder
		for _, rr := range resp.Answer {
			b.WriteString(rr.(*dns.A).A.String() + " ")
		}
		seen[b.String()] = true
	}
	if len(seen) < 2 {
		t.Errorf("200 answers in one order: %v", seen)
	}
}

func TestServerSurvivesMalformedPackets(t *testing.T) {
	s := startServer(t, fixture(t), nil)
	good := pack(t, question("orders.service.nacos.", dns.TypeA, 0))
	twoOPT := question("orders.service.nacos.", dns.TypeA, 1232)
	twoOPT.Extra = append(twoOPT.Extra, twoOPT.Extra[0])
	threeOPT := twoOPT.Copy()
	threeOPT.Extra = append(threeOPT.Extra, threeOPT.Extra[0])
	withHeader := func(change func(*dns.Msg)) []byte {
		m := question("orders.service.nacos.", dns.TypeA, 0)
		change(m)
		return pack(t, m)
	}
	const noReply = -1
	for _, tc := range []struct {
		name  string
		bytes []byte
		want  int
	}{
		{"short header", []byte{0x12, 0x34, 0x01}, noReply},
		{"header only", []byte{0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0}, dns.RcodeFormatError},
		{"cut question", append(append([]byte{}, good[:12]...), 0x3f, 'a', 'b'), dns.RcodeFormatError},
		{"pointer loop", append(append([]byte{}, good[:12]...), 0xc0, 0x0c, 0, 1, 0, 1), dns.RcodeFormatError},
		{"garbage", append(append([]byte{}, good[:12]...), []byte("\xff\xfe not a name at all \x00\x01")...), dns.RcodeFormatError},
		{"two OPT", pack(t, twoOPT), dns.RcodeFormatError},
		{"three OPT", pack(t, threeOPT), dns.RcodeFormatError},
		{"response", withHeader(func(m *dns.Msg) { m.Response = true }), noReply},
		{"notify", withHeader(func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }), dns.RcodeNotImplemented},
		{"opcode 15", withHeader(func(m *dns.Msg) { m.Opcode = 15 }), dns.RcodeNotImplemented},
		{"no question", withHeader(func(m *dns.Msg) { m.Question = nil }), dns.RcodeFormatError},
		{"two questions", withHeader(func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }), dns.RcodeFormatError},
		// miekg/dns reads the query and ignores bytes after it.
		{"trailing bytes", append(append([]byte{}, good...), 0xde, 0xad, 0xbe, 0xef), dns.RcodeSuccess},
	} {
		wait := 2 * time.Second
		if tc.want == noReply {
			wait = 300 * time.Millisecond
		}
		wire := rawUDP(t, s.UDPAddr(), tc.bytes, wait)
		if wire == nil {
			if tc.want != noReply {
				t.Errorf("%s: no reply, want %s", tc.name, dns.RcodeToString[tc.want])
			}
			continue
		}
		var m dns.Msg
		if err := m.Unpack(wire); err != nil {
			t.Errorf("%s: unreadable reply %x: %v", tc.name, wire, err)
		} else if m.Rcode != tc.want {
			t.Errorf("%s: rcode %s, want %s", tc.name, dns.RcodeToString[m.Rcode], dns.RcodeToString[tc.want])
		}
	}
	if resp := exchange(t, s, question("orders.service.nacos.", dns.TypeA, 0), "udp"); len(resp.Answer) != 3 {
		t.Errorf("after malformed packets: %v", resp)
	}
}

func TestServerLifecycle(t *testing.T) {
	s := newServer(t, naming.NewCatalog(), nil)
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err == nil {
		t.Error("second Start succeeded")
	}
	addr := s.TCPAddr()
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if err := s.Start(t.Context()); err == nil {
		t.Error("Start after Close succeeded")
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Error("TCP still accepts after Close")
	}

	unstarted := newServer(t, naming.NewCatalog(), nil)
	if err := unstarted.Close(); err != nil {
		t.Errorf("close before start: %v", err)
	}

	blocker, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close()
	busy := newServer(t, naming.NewCatalog(), func(c *Config) { c.Addr = blocker.Addr().String() })
	if err := busy.Start(t.Context()); err == nil {
		t.Error("Start on a busy port succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	bad := map[string]func(*Config){
		"no port":       func(c *Config) { c.Addr = "127.0.0.1" },
		"bad port":      func(c *Config) { c.Addr = "127.0.0.1:99999" },
		"root zone":     func(c *Config) { c.Zone = "." },
		"empty zone":    func(c *Config) { c.Zone = "" },
		"zone label":    func(c *Config) { c.Zone = "na cos." },
		"empty label":   func(c *Config) { c.Zone = "a..b." },
		"long zone":     func(c *Config) { c.Zone = strings.Repeat("a.", 80) },
		"negative ttl":  func(c *Config) { c.TTL = -time.Second },
		"huge neg ttl":  func(c *Config) { c.NegativeTTL = 48 * time.Hour },
		"recursor":      func(c *Config) { c.Recursors = []string{"8.8.8.8"} },
		"recursor port": func(c *Config) { c.Recursors = []string{"8.8.8.8:0"} },
		"no timeout":    func(c *Config) { c.Recursors, c.RecursorTimeout = []string{"8.8.8.8:53"}, 0 },
		"small udp":     func(c *Config) { c.MaxUDPSize = 511 },
		"huge udp":      func(c *Config) { c.MaxUDPSize = 70000 },
		"neg sockets":   func(c *Config) { c.UDPSockets = -1 },
		"many sockets":  func(c *Config) { c.UDPSockets = 65 },
	}
	for name, change := range bad {
		cfg := DefaultConfig()
		change(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := New(cfg, naming.NewCatalog(), quietLog()); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	cfg := DefaultConfig()
	cfg.Zone = "Sextant.Example"
	s, err := New(cfg, naming.NewCatalog(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if resp := s.Resolve(question("sextant.example.", dns.TypeSOA, 0), false); len(resp.Answer) != 1 {
		t.Errorf("zone not normalised: %v", resp)
	}
}
