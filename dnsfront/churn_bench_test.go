package dnsfront

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"

	"sextant/naming"
)

// benchQuery is one query of a benchmark, with its sub-benchmark's name.
type benchQuery struct {
	name  string
	qname string
	qtype uint16
}

// ordersServer is a server over a catalog holding the service orders of
// three instances.
func ordersServer(b *testing.B) (*naming.Catalog, *Server) {
	c := naming.NewCatalog()
	for _, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		register(b, c, key("orders"), inst(ip, 8080))
	}
	return c, newServer(b, c, nil)
}

// BenchmarkZoneBump is what the zone does on every catalog change.
func BenchmarkZoneBump(b *testing.B) {
	z := newZone("nacos.", 5*time.Second, 5*time.Second, "127.0.0.1", time.Unix(1e9, 0))
	now := time.Unix(1e9, 0)
	b.ReportAllocs()
	for b.Loop() {
		z.bump(now)
	}
}

// BenchmarkIndexUpdate is the DNS front's share of one catalog change: the
// changed service's entry replaced and the zone bumped.
func BenchmarkIndexUpdate(b *testing.B) {
	c := naming.NewCatalog()
	keys := make([]naming.ServiceKey, 100)
	for i := range keys {
		keys[i] = key(fmt.Sprintf("svc-%d", i))
		register(b, c, keys[i], inst("10.0.0.1", 8080))
	}
	s := newServer(b, c, nil)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		s.idx.update(keys[n%len(keys)])
		n++
	}
}

// BenchmarkQueryUnderChurn answers a query while another service changes
// between every two queries, as under a steady stream of registrations:
// one change of svc-0 and one query each iteration, the query on the wire
// path and, when that leaves it, on the full path (unpack, resolve, pack)
// as the server does.
func BenchmarkQueryUnderChurn(b *testing.B) {
	c, s := ordersServer(b)
	register(b, c, key("svc-0"), inst("10.9.0.1", 8080))
	client := mustAddr("127.0.0.1")
	for _, tc := range []benchQuery{
		{"positive", "orders.service.nacos.", dns.TypeA},
		{"nxdomain", "missing.service.nacos.", dns.TypeA},
		{"nodata", "orders.service.nacos.", dns.TypeAAAA},
		{"apex-soa", "nacos.", dns.TypeSOA},
	} {
		q := pack(b, question(tc.qname, tc.qtype, 0))
		out := make([]byte, 0, packBufSize)
		buf := make([]byte, packBufSize)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.idx.update(key("svc-0"))
				if _, res := s.answerWire(q, client, out); res != wirePass {
					continue
				}
				m := new(dns.Msg)
				if err := m.Unpack(q); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Resolve(m, false).PackBuffer(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
