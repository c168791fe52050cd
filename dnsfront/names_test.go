package dnsfront

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"sextant/naming"
)

func TestParseName(t *testing.T) {
	zone := []string{"nacos"}
	for _, tc := range []struct {
		name string
		want parsedName
	}{
		{"nacos.", parsedName{kind: nameApex}},
		{"NaCoS.", parsedName{kind: nameApex}},
		{"example.com.", parsedName{kind: nameOutside}},
		{"nacos.com.", parsedName{kind: nameOutside}},
		{".", parsedName{kind: nameOutside}},
		{"a..nacos.", parsedName{kind: nameInvalid}},
		{"nacos", parsedName{kind: nameInvalid}},
		{"ns.nacos.", parsedName{kind: nameHost}},
		{"service.nacos.", parsedName{kind: nameStructural}},
		{"orders.service.nacos.", parsedName{kind: nameService, service: "orders"}},
		{"com.Example.Api.SERVICE.nacos.", parsedName{kind: nameService, service: "com.Example.Api"}},
		{"orders.service.G.group.N.ns.C.cluster.nacos.", parsedName{kind: nameService, service: "orders", group: "G", namespace: "N", cluster: "C"}},
		{"orders.service.C.cluster.G.group.nacos.", parsedName{kind: nameService, service: "orders", group: "G", cluster: "C"}},
		{"orders.service.a.group.b.group.nacos.", parsedName{kind: nameMissing}},
		{"orders.nacos.", parsedName{kind: nameMissing}},
		{"orders.service.ns.nacos.", parsedName{kind: nameMissing}},
		{"G.group.nacos.", parsedName{kind: nameStructural}},
		{"group.nacos.", parsedName{kind: nameStructural}},
		{"ns.G.group.nacos.", parsedName{kind: nameStructural}},
		{"_orders._tcp.service.nacos.", parsedName{kind: nameSRV, service: "orders"}},
		{"_orders._UDP.service.nacos.", parsedName{kind: nameSRV, service: "orders"}},
		{"_com.example._tcp.service.nacos.", parsedName{kind: nameSRV, service: "com.example"}},
		{"_http._tcp.com.example.service.nacos.", parsedName{kind: nameSRV, service: "com.example"}},
		{"_tcp.service.nacos.", parsedName{kind: nameStructural}},
		{"_tcp.orders.service.nacos.", parsedName{kind: nameServiceENT, service: "orders"}},
		{"example._tcp.service.nacos.", parsedName{kind: nameSuffix, service: "example"}},
		{"_._tcp.service.nacos.", parsedName{kind: nameMissing}},
		{"_orders.service.nacos.", parsedName{kind: nameService, service: "_orders"}},
		{`a\.b.service.nacos.`, parsedName{kind: nameService, service: "a.b"}},
		{`x\032y.z.service.nacos.`, parsedName{kind: nameService, service: "x y.z"}},
		{`\999.service.nacos.`, parsedName{kind: nameInvalid}},
		{"addr.nacos.", parsedName{kind: nameStructural}},
		{"0a000001.addr.nacos.", parsedName{kind: nameAddr, addr: netip.MustParseAddr("10.0.0.1")}},
		{"0A0000FF.ADDR.nacos.", parsedName{kind: nameAddr, addr: netip.MustParseAddr("10.0.0.255")}},
		{"20010db8000000000000000000000001.addr.nacos.", parsedName{kind: nameAddr, addr: netip.MustParseAddr("2001:db8::1")}},
		{"0a00001.addr.nacos.", parsedName{kind: nameMissing}},
		{"0a00000g.addr.nacos.", parsedName{kind: nameMissing}},
		{"x.0a000001.addr.nacos.", parsedName{kind: nameMissing}},
	} {
		if got := parseName(tc.name, zone); got != tc.want {
			t.Errorf("parseName(%q) = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestParseNameLongZone(t *testing.T) {
	zone := []string{"svc", "example", "org"}
	if got := parseName("orders.service.SVC.example.org.", zone); got.kind != nameService || got.service != "orders" {
		t.Errorf("got %+v", got)
	}
	if got := parseName("example.org.", zone); got.kind != nameOutside {
		t.Errorf("parent of the zone: %+v", got)
	}
}

func TestAddrLabelRoundTrip(t *testing.T) {
	for _, s := range []string{"10.0.0.1", "255.255.255.255", "0.0.0.0", "2001:db8::1", "::1", "fe80::1"} {
		ip := netip.MustParseAddr(s)
		l := addrLabel(ip)
		back, ok := parseAddrLabel(strings.ToUpper(l))
		if !ok || back != ip || l != strings.ToLower(l) {
			t.Errorf("%s: label %q reads back as %v", s, l, back)
		}
	}
	if ip, ok := instanceAddr("::ffff:10.0.0.1"); !ok || !ip.Is4() {
		t.Errorf("mapped address: %v", ip)
	}
	for _, s := range []string{"host.example", "fe80::1%eth0", ""} {
		if _, ok := instanceAddr(s); ok {
			t.Errorf("%q served as an address", s)
		}
	}
}

func TestNameLen(t *testing.T) {
	for _, n := range []string{".", "nacos.", "a.b.c.", `a\.b.nacos.`, `\065bc.nacos.`, `x\\y.nacos.`} {
		b := make([]byte, 300)
		off, err := dns.PackDomainName(n, b, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := nameLen(n); got != off {
			t.Errorf("nameLen(%q) = %d, packs to %d", n, got, off)
		}
	}
}

func TestLowerASCII(t *testing.T) {
	for in, want := range map[string]string{"": "", "abc": "abc", "ABC": "abc", "DEFAULT_GROUP": "default_group", "Ünï": "Ünï", "a-Z.9": "a-z.9"} {
		if got := lowerASCII(in); got != want {
			t.Errorf("lowerASCII(%q) = %q", in, got)
		}
	}
	if defaultGroupFolded != lowerASCII(naming.DefaultGroup) {
		t.Errorf("defaultGroupFolded %q", defaultGroupFolded)
	}
}
