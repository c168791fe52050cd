package dnsfront

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

var fuzzNames = []string{
	"nacos.", "NACOS.", ".", "", "nacos", "a..nacos.", "example.com.",
	"orders.service.nacos.", "oRdErS.sErViCe.nAcOs.", "_orders._tcp.service.nacos.",
	"_http._tcp.orders.service.nacos.", "_tcp.orders.service.nacos.", "_tcp.service.nacos.",
	"a.b.c.service.g.group.n.ns.c.cluster.nacos.", "x.group.y.group.nacos.", "ns.nacos.",
	"0a000001.addr.nacos.", "20010DB8000000000000000000000001.ADDR.nacos.", "zz.addr.nacos.",
	`a\.b.service.nacos.`, `\065\066.service.nacos.`, `\999.service.nacos.`, `a\`, `_\_._tcp.service.nacos.`,
	"_._tcp.service.nacos.", "service.service.nacos.", "b._tcp.service.nacos.",
}

func FuzzParseName(f *testing.F) {
	for _, n := range fuzzNames {
		f.Add(n)
	}
	zone := []string{"nacos"}
	f.Fuzz(func(t *testing.T, name string) {
		p := parseName(name, zone)
		switch p.kind {
		case nameService, nameSRV, nameServiceENT, nameSuffix:
			if p.service == "" {
				t.Errorf("%q: %v without a service name", name, p.kind)
			}
		case nameAddr:
			if !p.addr.IsValid() {
				t.Errorf("%q: address name without an address", name)
			}
		}
		// DNS names compare without regard to ASCII case.
		upper := parseName(strings.ToUpper(name), zone)
		if upper.kind != p.kind || !strings.EqualFold(upper.service, p.service) ||
			!strings.EqualFold(upper.cluster, p.cluster) || upper.addr != p.addr {
			t.Errorf("%q parses as %+v, in upper case as %+v", name, p, upper)
		}
	})
}

func FuzzResolve(f *testing.F) {
	for _, n := range fuzzNames {
		if _, ok := dns.IsDomainName(n); !ok || n == "" {
			continue
		}
		for _, qt := range []uint16{dns.TypeA, dns.TypeSRV, dns.TypeANY} {
			for _, size := range []uint16{0, 4096} {
				if b, err := question(dns.Fqdn(n), qt, size).Pack(); err == nil {
					f.Add(b)
				}
			}
		}
	}
	bad := question("orders.service.nacos.", dns.TypeA, 1232)
	bad.IsEdns0().SetVersion(3)
	two := question("_big._tcp.service.nacos.", dns.TypeSRV, 1232)
	two.Extra = append(two.Extra, two.Extra[0])
	for _, m := range []*dns.Msg{bad, two, question("big.service.nacos.", dns.TypeA, 0), question("_big._tcp.service.nacos.", dns.TypeSRV, 600)} {
		b, _ := m.Pack()
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte("\x12\x34\x01\x00\x00\x02\x00\x00\x00\x00\x00\x00"))

	c := fixture(f)
	bigService(f, c, "big", 60)
	s := newServer(f, c, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		req := new(dns.Msg)
		if err := req.Unpack(data); err != nil {
			return
		}
		for _, tcp := range []bool{false, true} {
			resp, limit := s.resolve(req, tcp, netip.Addr{})
			if resp == nil {
				if !req.Response {
					t.Fatalf("no reply to a query: %v", req)
				}
				continue
			}
			if resp.Id != req.Id || !resp.Response {
				t.Errorf("header: %v", resp)
			}
			if len(req.Question) > 0 && (len(resp.Question) != 1 || resp.Question[0] != req.Question[0]) {
				t.Errorf("question %v, asked %v", resp.Question, req.Question)
			}
			b, err := resp.Pack()
			if err != nil {
				t.Fatalf("reply does not pack: %v\n%v", err, resp)
			}
			if len(b) > limit {
				t.Errorf("reply of %d bytes, limit %d (tcp=%v)", len(b), limit, tcp)
			}
		}
	})
}
