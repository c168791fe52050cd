package dnsfront

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"sextant/naming"
)

func TestRecursionOnlyForAllowedClients(t *testing.T) {
	up := upstream(t)
	s := newServer(t, fixture(t), func(c *Config) {
		c.Recursors = []string{up}
		c.RecursionAllow = []string{"10.1.0.0/16", "2001:db8::/32", "192.0.2.7"}
	})
	cases := []struct {
		client string
		ok     bool
	}{
		{"10.1.2.3", true}, {"10.2.0.1", false}, {"192.0.2.7", true}, {"192.0.2.8", false},
		{"2001:db8::1", true}, {"2001:db9::1", false}, {"127.0.0.1", false}, {"::ffff:10.1.0.9", true},
	}
	for _, c := range cases {
		resp := s.ResolveFrom(question("example.com.", dns.TypeA, 1232), false, netip.MustParseAddr(c.client))
		got := resp.Rcode == dns.RcodeSuccess && len(resp.Answer) == 1
		if got != c.ok || resp.RecursionAvailable != c.ok {
			t.Errorf("%s: rcode %s, %d answers, RA %v; want forwarded=%v", c.client,
				dns.RcodeToString[resp.Rcode], len(resp.Answer), resp.RecursionAvailable, c.ok)
		}
		if !c.ok && resp.Rcode != dns.RcodeRefused {
			t.Errorf("%s: want REFUSED, got %s", c.client, dns.RcodeToString[resp.Rcode])
		}
		// Names in the zone are answered for everyone.
		own := s.ResolveFrom(question("orders.service.nacos.", dns.TypeA, 0), false, netip.MustParseAddr(c.client))
		if len(own.Answer) != 3 {
			t.Errorf("%s: own zone answer %v", c.client, own)
		}
	}
}

func TestRecursionDefaultIsLoopbackOverSockets(t *testing.T) {
	up := upstream(t)
	// The default allows loopback: the test's own queries are forwarded.
	s := startServer(t, naming.NewCatalog(), func(c *Config) { c.Recursors = []string{up} })
	if resp := exchange(t, s, question("example.org.", dns.TypeA, 0), "udp"); len(resp.Answer) != 1 {
		t.Fatalf("loopback client: %v", resp)
	}
	// An empty list allows no one.
	s2 := startServer(t, naming.NewCatalog(), func(c *Config) { c.Recursors = []string{up}; c.RecursionAllow = nil })
	for _, network := range []string{"udp", "tcp"} {
		if resp := exchange(t, s2, question("example.org.", dns.TypeA, 0), network); resp.Rcode != dns.RcodeRefused || resp.RecursionAvailable {
			t.Fatalf("%s: %v", network, resp)
		}
	}
}

func TestBadRecursionAllowIsRejected(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RecursionAllow = []string{"10.0.0.0/33"}
	if cfg.Validate() == nil {
		t.Fatal("bad CIDR accepted")
	}
	cfg.RecursionAllow = []string{"not-an-ip"}
	if cfg.Validate() == nil {
		t.Fatal("bad address accepted")
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestRateLimiterTokenBucket(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	r := newRateLimiter(10, 1024, nil, clk.now)
	a := netip.MustParseAddr("198.51.100.7")
	same := netip.MustParseAddr("198.51.100.200") // same /24
	other := netip.MustParseAddr("198.51.101.7")
	var sent, dropped, slipped int
	for i := 0; i < 30; i++ {
		c := a
		if i%2 == 1 {
			c = same
		}
		switch r.decide(c) {
		case sendAnswer:
			sent++
		case dropAnswer:
			dropped++
		case slipAnswer:
			slipped++
		}
	}
	if sent != 10 || dropped != 10 || slipped != 10 {
		t.Fatalf("one /24 over a burst of 30: sent %d dropped %d slipped %d; want 10/10/10", sent, dropped, slipped)
	}
	if r.decide(other) != sendAnswer {
		t.Fatal("another network was limited")
	}
	clk.t = clk.t.Add(500 * time.Millisecond) // 5 tokens back
	for i := 0; i < 5; i++ {
		if r.decide(a) != sendAnswer {
			t.Fatalf("answer %d after refill refused", i)
		}
	}
	if r.decide(a) == sendAnswer {
		t.Fatal("refill gave more than the rate")
	}
	v6 := netip.MustParseAddr("2001:db8:1:100::1")
	v6same := netip.MustParseAddr("2001:db8:1:1ff::9") // same /56
	for i := 0; i < 10; i++ {
		r.decide(v6)
	}
	if r.decide(v6same) == sendAnswer {
		t.Fatal("the /56 was not limited as one network")
	}
}

func TestRateLimiterTableIsBounded(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	r := newRateLimiter(5, rrlShards*4, nil, clk.now)
	for i := 0; i < 5000; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
		r.decide(a)
	}
	if n := r.size(); n > rrlShards*4 {
		t.Fatalf("table holds %d networks, bound %d", n, rrlShards*4)
	}
}

// TestRateLimitOverSockets floods the UDP socket from one client and checks
// that at most about one second's worth of full answers come back, that
// some come back truncated, and that TCP still answers.
func TestRateLimitOverSockets(t *testing.T) {
	s := startServer(t, fixture(t), func(c *Config) { c.RateLimit, c.RateLimitExempt = 20, nil })
	conn, err := net.Dial("udp", s.UDPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const sent = 200
	for i := 0; i < sent; i++ {
		m := question("orders.service.nacos.", dns.TypeA, 0)
		m.Id = uint16(i + 1)
		b, _ := m.Pack()
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	full, truncated := 0, 0
	buf := make([]byte, 4096)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := conn.Read(buf)
		if err != nil {
			break
		}
		var m dns.Msg
		if m.Unpack(buf[:n]) != nil {
			t.Fatal("unparsable reply")
		}
		if m.Truncated && len(m.Answer) == 0 {
			truncated++
		} else {
			full++
		}
	}
	// The burst is 20; the flood takes well under a second, adding a few.
	if full < 20 || full > 40 || truncated == 0 || full+truncated >= sent {
		t.Fatalf("of %d queries: %d full answers, %d truncated", sent, full, truncated)
	}
	if d, tr := s.RateLimited(); d == 0 || tr != uint64(truncated) {
		t.Fatalf("counters: dropped %d truncated %d (saw %d)", d, tr, truncated)
	}
	if resp := exchange(t, s, question("orders.service.nacos.", dns.TypeA, 0), "tcp"); len(resp.Answer) != 3 {
		t.Fatalf("tcp under the limit: %v", resp)
	}
}

func BenchmarkRateLimiterDecide(b *testing.B) {
	r := newRateLimiter(1<<30, 65536, nil, nil)
	addrs := make([]netip.Addr, 1024)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r.decide(addrs[i%len(addrs)])
			i++
		}
	})
}
