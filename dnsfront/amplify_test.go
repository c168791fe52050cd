package dnsfront

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// spoofedWriter is a UDP ResponseWriter for a client at addr; it counts
// the bytes written.
type spoofedWriter struct {
	dns.ResponseWriter
	addr  netip.Addr
	bytes int
}

func (w *spoofedWriter) LocalAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
}
func (w *spoofedWriter) RemoteAddr() net.Addr {
	return &net.UDPAddr{IP: w.addr.AsSlice(), Port: 5353}
}
func (w *spoofedWriter) Write(b []byte) (int, error) { w.bytes += len(b); return len(b), nil }

// amplification floods s with qps queries a second for d (on the
// limiter's clock), as a victim at client would receive them, through the
// UDP fast path and the full path as a socket would, and returns bytes
// out over bytes in.
func amplification(t *testing.T, s *Server, client netip.Addr, qps int, d time.Duration) float64 {
	t.Helper()
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	if s.rrl != nil {
		s.rrl.now = clk.now
	}
	queries := []*dns.Msg{
		question("_big._tcp.service.nacos.", dns.TypeSRV, 1232),
		question("big.service.nacos.", dns.TypeANY, 1232),
		question("big.service.nacos.", dns.TypeA, 1232),
	}
	in, out := 0, 0
	step := time.Second / time.Duration(qps)
	for i := 0; i < int(d/step); i++ {
		m := queries[i%len(queries)]
		m.Id = uint16(i)
		pkt, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		in += len(pkt)
		reply, res := s.answerWire(pkt, client, nil)
		switch res {
		case wireReply:
			out += len(reply)
		case wirePass:
			w := &spoofedWriter{addr: client}
			s.ServeDNS(w, m)
			out += w.bytes
		}
		clk.t = clk.t.Add(step)
	}
	return float64(out) / float64(in)
}

// TestDNSAmplificationWithDefaults: with the default settings, a flood of
// queries whose source is spoofed to a victim outside loopback gets back at
// most twice the bytes sent, at 1,000 queries a second and above; an
// unlimited node (the old default) amplifies about ten times.
func TestDNSAmplificationWithDefaults(t *testing.T) {
	c := fixture(t)
	bigService(t, c, "big", 60)
	victim := netip.MustParseAddr("198.51.100.7")
	for _, qps := range []int{1000, 5000} {
		s := newServer(t, c, nil)
		r := amplification(t, s, victim, qps, 5*time.Second)
		t.Logf("defaults, %d queries/s for 5 s from %s: %.2f bytes out per byte in", qps, victim, r)
		if r > 2 {
			t.Errorf("amplification %.2f at %d queries/s, want at most 2", r, qps)
		}
	}
	off := amplification(t, newServer(t, c, func(cfg *Config) { cfg.RateLimit = 0 }), victim, 1000, 5*time.Second)
	t.Logf("without rate limiting: %.2f", off)
	if off < 5 {
		t.Errorf("the unlimited node amplifies only %.2f: the test no longer measures the attack", off)
	}
}
