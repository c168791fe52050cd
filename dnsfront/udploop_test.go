package dnsfront

import (
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestSocketLoopsServeManyClients sends queries from several client
// sockets, some for the wire path and some for the full path, and checks
// every one gets its own answer.
func TestSocketLoopsServeManyClients(t *testing.T) {
	s := startServer(t, fixture(t), func(c *Config) { c.UDPSockets = 3 })
	if runtime.GOOS == "linux" && len(s.loops) != 3 {
		t.Fatalf("%d socket loops, want 3", len(s.loops))
	}
	queries := []struct {
		name    string
		qtype   uint16
		answers int
		rcode   int
	}{
		{"orders.service.nacos.", dns.TypeA, 3, dns.RcodeSuccess},
		{"_multi._tcp.service.nacos.", dns.TypeSRV, 2, dns.RcodeSuccess},
		{"nope.service.nacos.", dns.TypeA, 0, dns.RcodeNameError},
		{"ns.nacos.", dns.TypeA, 1, dns.RcodeSuccess},
	}
	const clients, perClient = 6, 40
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("udp", s.UDPAddr())
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			for i := 0; i < perClient; i++ {
				q := queries[i%len(queries)]
				m := question(q.name, q.qtype, 0)
				m.Id = uint16(c*perClient + i)
				b, _ := m.Pack()
				if _, err := conn.Write(b); err != nil {
					t.Error(err)
					return
				}
			}
			seen := map[uint16]bool{}
			buf := make([]byte, 4096)
			for len(seen) < perClient {
				_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
				n, err := conn.Read(buf)
				if err != nil {
					t.Errorf("client %d: %d of %d answers: %v", c, len(seen), perClient, err)
					return
				}
				var r dns.Msg
				if err := r.Unpack(buf[:n]); err != nil {
					t.Errorf("unreadable reply: %v", err)
					return
				}
				i := int(r.Id) - c*perClient
				if i < 0 || i >= perClient || seen[r.Id] {
					t.Errorf("client %d: unexpected reply id %d", c, r.Id)
					return
				}
				seen[r.Id] = true
				q := queries[i%len(queries)]
				if r.Rcode != q.rcode || len(r.Answer) != q.answers || r.Question[0].Name != q.name {
					t.Errorf("client %d query %d (%s): %v", c, i, q.name, &r)
				}
			}
		}()
	}
	wg.Wait()
	if got := s.Stats().Total(); got != clients*perClient {
		t.Errorf("stats count %d replies, want %d", got, clients*perClient)
	}
}

func TestSocketLoopOverIPv6(t *testing.T) {
	if ln, err := net.ListenPacket("udp", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback here")
	} else {
		ln.Close()
	}
	s := startServer(t, fixture(t), func(c *Config) { c.Addr = "[::1]:0" })
	// Twice each: the first answer is prepared, the second comes from the
	// wire cache (or the full path again, for NXDOMAIN).
	for i := 0; i < 2; i++ {
		if r := exchange(t, s, question("orders.service.nacos.", dns.TypeA, 0), "udp"); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 3 {
			t.Errorf("orders: %v", r)
		}
		if r := exchange(t, s, question("nope.service.nacos.", dns.TypeA, 0), "udp"); r.Rcode != dns.RcodeNameError {
			t.Errorf("nope: %v", r)
		}
	}
}

// TestCloseReleasesSockets checks that Close closes every UDP socket: the
// port can then be bound again without SO_REUSEPORT.
func TestCloseReleasesSockets(t *testing.T) {
	s := startServer(t, fixture(t), func(c *Config) { c.UDPSockets = 2 })
	addr := s.UDPAddr()
	exchange(t, s, question("orders.service.nacos.", dns.TypeA, 0), "udp")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	pc.Close()
}

// TestSocketLoopRepliesFromQueryAddress runs the loops as on a wildcard
// address, where each reply names its source address, on loopback.
func TestSocketLoopRepliesFromQueryAddress(t *testing.T) {
	addrs := []string{"127.0.0.1:0"}
	if ln, err := net.ListenPacket("udp", "[::1]:0"); err == nil {
		ln.Close()
		addrs = append(addrs, "[::1]:0")
	}
	for _, addr := range addrs {
		s := newServer(t, fixture(t), func(c *Config) { c.Addr = addr })
		s.pktinfo = true
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		// The client socket is connected: a reply from another address
		// would not reach it. Both the wire path (SRV) and the full
		// path (NXDOMAIN) are used.
		for i := 0; i < 3; i++ {
			if r := exchange(t, s, question("_multi._tcp.service.nacos.", dns.TypeSRV, 0), "udp"); len(r.Answer) != 2 {
				t.Errorf("%s SRV: %v", addr, r)
			}
			if r := exchange(t, s, question("nope.service.nacos.", dns.TypeA, 0), "udp"); r.Rcode != dns.RcodeNameError {
				t.Errorf("%s NXDOMAIN: %v", addr, r)
			}
		}
		if n := s.Stats().Total(); n != 6 {
			t.Errorf("%s: %d replies counted", addr, n)
		}
	}
}
