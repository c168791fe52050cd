package dnsfront

import (
	"testing"

	"github.com/miekg/dns"
)

// roundTrip packs and unpacks a reply, as a client would see it.
func roundTrip(t *testing.T, m *dns.Msg) *dns.Msg {
	t.Helper()
	out := new(dns.Msg)
	if err := out.Unpack(pack(t, m)); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	return out
}

func TestEDNSEcho(t *testing.T) {
	s := newServer(t, fixture(t), nil)

	plain := roundTrip(t, s.Resolve(question("orders.service.nacos.", dns.TypeA, 0), false))
	if plain.IsEdns0() != nil {
		t.Errorf("OPT in the reply to a query without one: %v", plain)
	}

	req := question("orders.service.nacos.", dns.TypeA, 4096)
	opt := req.IsEdns0()
	opt.SetDo()
	opt.Hdr.Ttl |= 0x4000 // an unknown flag
	opt.Option = append(opt.Option,
		&dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1, 2}},
		&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"},
		&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: mustAddr("10.1.2.0").AsSlice()})
	resp := roundTrip(t, s.Resolve(req, false))
	got := resp.IsEdns0()
	switch {
	case resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 3:
		t.Fatalf("answer: %v", resp)
	case got == nil:
		t.Fatal("no OPT in the reply")
	case got.Version() != 0 || got.UDPSize() != 1232 || !got.Do():
		t.Errorf("OPT: version %d size %d do %v", got.Version(), got.UDPSize(), got.Do())
	case len(got.Option) != 0:
		t.Errorf("options echoed: %v", got.Option)
	case got.Hdr.Ttl&0x7fff != 0:
		t.Errorf("unknown flags echoed: %#x", got.Hdr.Ttl)
	}

	noDO := roundTrip(t, s.Resolve(question("orders.service.nacos.", dns.TypeA, 1232), true))
	if o := noDO.IsEdns0(); o == nil || o.Do() {
		t.Errorf("DO set without being asked: %v", noDO)
	}
}

func TestEDNSBadVersion(t *testing.T) {
	s := newServer(t, fixture(t), nil)
	req := question("orders.service.nacos.", dns.TypeA, 1232)
	req.IsEdns0().SetVersion(1)
	resp := roundTrip(t, s.Resolve(req, false))
	opt := resp.IsEdns0()
	if resp.Rcode != dns.RcodeBadVers || len(resp.Answer) != 0 || opt == nil || opt.Version() != 0 {
		t.Errorf("version 1: %v", resp)
	}
	if resp.Question[0] != req.Question[0] {
		t.Errorf("question %v", resp.Question)
	}
}

func TestEDNSTwoOPT(t *testing.T) {
	s := newServer(t, fixture(t), nil)
	req := question("orders.service.nacos.", dns.TypeA, 1232)
	req.Extra = append(req.Extra, req.Extra[0])
	resp := roundTrip(t, s.Resolve(req, false))
	if resp.Rcode != dns.RcodeFormatError || len(resp.Answer) != 0 || resp.IsEdns0() != nil {
		t.Errorf("two OPT records: %v", resp)
	}
}

func TestEDNSLimit(t *testing.T) {
	for _, tc := range []struct {
		e      edns
		tcp    bool
		max    int
		expect int
	}{
		{edns{}, false, 1232, 512},
		{edns{present: true, size: 100}, false, 1232, 512},
		{edns{present: true, size: 1000}, false, 1232, 1000},
		{edns{present: true, size: 4096}, false, 1232, 1232},
		{edns{present: true, size: 4096}, false, 4096, 4096},
		{edns{present: true, size: 4096}, true, 1232, 65535},
		{edns{}, true, 1232, 65535},
	} {
		if got := tc.e.limit(tc.tcp, tc.max); got != tc.expect {
			t.Errorf("%+v tcp=%v max=%d: limit %d, want %d", tc.e, tc.tcp, tc.max, got, tc.expect)
		}
	}
}
