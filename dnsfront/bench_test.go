package dnsfront

import (
	"testing"

	"github.com/miekg/dns"

	"sextant/naming"
)

// benchResolve measures the full answer path (TCP, and UDP queries the
// wire path leaves) for a service of 3 instances on a request that is
// already unpacked, as the miekg/dns server hands it over: Resolve alone,
// and Resolve with packing into a reused buffer as ServeDNS does. The UDP
// hot path is BenchmarkQueryWire.
func benchResolve(b *testing.B, name string, qtype uint16) {
	c := naming.NewCatalog()
	for _, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		register(b, c, key("orders"), inst(ip, 8080))
	}
	s := newServer(b, c, nil)
	req := new(dns.Msg)
	if err := req.Unpack(pack(b, question(name, qtype, 1232))); err != nil {
		b.Fatal(err)
	}
	if resp := s.Resolve(req, false); len(resp.Answer) != 3 {
		b.Fatalf("answer: %v", resp)
	}
	b.Run("resolve", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.Resolve(req, false)
		}
	})
	b.Run("resolve+pack", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, packBufSize)
		for b.Loop() {
			if _, err := s.Resolve(req, false).PackBuffer(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The full path from the query's bytes, as the miekg/dns server and
	// ServeDNS run it, to compare with BenchmarkQueryWire.
	raw := pack(b, question(name, qtype, 0))
	b.Run("unpack+resolve+pack", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, packBufSize)
		for b.Loop() {
			m := new(dns.Msg)
			if err := m.Unpack(raw); err != nil {
				b.Fatal(err)
			}
			if _, err := s.Resolve(m, false).PackBuffer(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkResolveA(b *testing.B) { benchResolve(b, "orders.service.nacos.", dns.TypeA) }

func BenchmarkResolveSRV(b *testing.B) { benchResolve(b, "_orders._tcp.service.nacos.", dns.TypeSRV) }
