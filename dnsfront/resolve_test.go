package dnsfront

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"sextant/naming"
)

// fixture is a catalog covering the cases the table below asks about.
func fixture(t testing.TB) *naming.Catalog {
	c := naming.NewCatalog()
	one := inst("10.0.0.1", 8080)
	one.Metadata = map[string]string{"version": "1", `path`: `a\b`}
	register(t, c, key("orders"), one)
	two := inst("10.0.0.2", 8080)
	two.Weight = 2
	register(t, c, key("orders"), two)
	east := inst("10.0.0.3", 9090)
	east.Cluster = "EAST"
	east.Metadata = map[string]string{"zone": "east"}
	register(t, c, key("orders"), east)
	sick := inst("10.0.0.4", 8080)
	sick.Healthy = false
	register(t, c, key("orders"), sick)
	off := inst("10.0.0.5", 8080)
	off.Enabled = false
	register(t, c, key("orders"), off)
	zero := inst("10.0.0.6", 8080)
	zero.Weight = 0
	register(t, c, key("orders"), zero)

	register(t, c, key("Orders"), inst("10.9.9.9", 1))
	register(t, c, key("v6"), inst("2001:db8::1", 80))
	register(t, c, key("port0"), inst("10.0.1.1", 0))
	register(t, c, key("com.example.Api"), inst("10.2.0.1", 80))
	register(t, c, naming.ServiceKey{Namespace: "ns1", Group: "G1", Name: "pay"}, inst("10.3.0.1", 7000))
	createService(t, c, key("idle"), 0)
	for _, ip := range []string{"10.4.0.1", "10.4.0.2"} {
		in := inst(ip, 80)
		in.Healthy = false
		register(t, c, key("allsick"), in)
	}
	createService(t, c, key("guarded"), 0.8)
	for i, ip := range []string{"10.5.0.1", "10.5.0.2", "10.5.0.3"} {
		in := inst(ip, 80)
		in.Healthy = i == 0
		register(t, c, key("guarded"), in)
	}
	// Two ports on one address share one target and one glue record.
	register(t, c, key("multi"), inst("10.6.0.1", 80))
	register(t, c, key("multi"), inst("10.6.0.1", 81))
	return c
}

const (
	srv1 = "0a000001.addr.nacos."
	srv2 = "0a000002.addr.nacos."
	srv3 = "0a000003.addr.nacos."
)

var ordersA = []string{
	"orders.service.nacos. 5 IN A 10.0.0.1",
	"orders.service.nacos. 5 IN A 10.0.0.2",
	"orders.service.nacos. 5 IN A 10.0.0.3",
}

func ordersSRV(owner string) []string {
	return []string{
		owner + " 5 IN SRV 1 32768 8080 " + srv1,
		owner + " 5 IN SRV 1 65535 8080 " + srv2,
		owner + " 5 IN SRV 1 32768 9090 " + srv3,
	}
}

var ordersGlue = []string{srv1 + " 5 IN A 10.0.0.1", srv2 + " 5 IN A 10.0.0.2", srv3 + " 5 IN A 10.0.0.3"}

// resolveCase is one query and what the reply must hold. soa says whether
// Authority must hold the zone's SOA (negative answers).
type resolveCase struct {
	name   string
	qtype  uint16
	rcode  int
	answer []string
	extra  []string
	soa    bool
}

func TestResolveTable(t *testing.T) {
	s := newServer(t, fixture(t), nil)
	nodata := func(name string, qtype uint16) resolveCase {
		return resolveCase{name: name, qtype: qtype, soa: true}
	}
	nx := func(name string, qtype uint16) resolveCase {
		return resolveCase{name: name, qtype: qtype, rcode: dns.RcodeNameError, soa: true}
	}
	cases := []resolveCase{
		// Plain names: only healthy, enabled, weight > 0 instances.
		{name: "orders.service.nacos.", qtype: dns.TypeA, answer: ordersA},
		{name: "orders.service.nacos.", qtype: dns.TypeSRV, answer: ordersSRV("orders.service.nacos."), extra: ordersGlue},
		{name: "orders.service.nacos.", qtype: dns.TypeTXT, answer: []string{
			`orders.service.nacos. 5 IN TXT "path=a\\b" "version=1"`,
			`orders.service.nacos. 5 IN TXT "zone=east"`,
		}},
		// ANY: the minimal answer of RFC 8482.
		{name: "orders.service.nacos.", qtype: dns.TypeANY, answer: []string{`orders.service.nacos. 5 IN HINFO "RFC8482" ""`}},
		nodata("orders.service.nacos.", dns.TypeAAAA),
		nodata("orders.service.nacos.", dns.TypeMX),
		nodata("orders.service.nacos.", 666),
		// RFC 2782 and port-name forms, and their empty non-terminals.
		{name: "_orders._tcp.service.nacos.", qtype: dns.TypeSRV, answer: ordersSRV("_orders._tcp.service.nacos."), extra: ordersGlue},
		{name: "_orders._udp.service.nacos.", qtype: dns.TypeSRV, answer: ordersSRV("_orders._udp.service.nacos."), extra: ordersGlue},
		{name: "_orders._tcp.service.nacos.", qtype: dns.TypeANY, answer: []string{`_orders._tcp.service.nacos. 5 IN HINFO "RFC8482" ""`}},
		{name: "_http._tcp.orders.service.nacos.", qtype: dns.TypeSRV, answer: ordersSRV("_http._tcp.orders.service.nacos."), extra: ordersGlue},
		nodata("_orders._tcp.service.nacos.", dns.TypeA),
		nodata("_tcp.service.nacos.", dns.TypeSRV),
		nodata("_tcp.orders.service.nacos.", dns.TypeSRV),
		nx("_tcp.nosuch.service.nacos.", dns.TypeSRV),
		nx("_nosuch._tcp.service.nacos.", dns.TypeSRV),
		// Clusters: exact, then case-folded; a cluster without instances is NODATA.
		{name: "orders.service.EAST.cluster.nacos.", qtype: dns.TypeA, answer: []string{"orders.service.EAST.cluster.nacos. 5 IN A 10.0.0.3"}},
		{name: "orders.service.east.cluster.nacos.", qtype: dns.TypeA, answer: []string{"orders.service.east.cluster.nacos. 5 IN A 10.0.0.3"}},
		{name: "orders.service.east.cluster.nacos.", qtype: dns.TypeSRV,
			answer: []string{"orders.service.east.cluster.nacos. 5 IN SRV 1 65535 9090 " + srv3},
			extra:  []string{srv3 + " 5 IN A 10.0.0.3"}},
		nodata("orders.service.west.cluster.nacos.", dns.TypeA),
		// Case: the exact spelling wins, otherwise the first spelling in order.
		{name: "Orders.service.nacos.", qtype: dns.TypeA, answer: []string{"Orders.service.nacos. 5 IN A 10.9.9.9"}},
		{name: "ORDERS.SERVICE.NACOS.", qtype: dns.TypeA, answer: []string{"ORDERS.SERVICE.NACOS. 5 IN A 10.9.9.9"}},
		// Groups and namespaces, in either order; defaults do not find them.
		{name: "pay.service.G1.group.ns1.ns.nacos.", qtype: dns.TypeA, answer: []string{"pay.service.G1.group.ns1.ns.nacos. 5 IN A 10.3.0.1"}},
		{name: "pay.service.ns1.ns.g1.group.nacos.", qtype: dns.TypeA, answer: []string{"pay.service.ns1.ns.g1.group.nacos. 5 IN A 10.3.0.1"}},
		{name: "orders.service.DEFAULT_GROUP.group.public.ns.nacos.", qtype: dns.TypeA, answer: []string{
			"orders.service.DEFAULT_GROUP.group.public.ns.nacos. 5 IN A 10.0.0.1",
			"orders.service.DEFAULT_GROUP.group.public.ns.nacos. 5 IN A 10.0.0.2",
			"orders.service.DEFAULT_GROUP.group.public.ns.nacos. 5 IN A 10.0.0.3",
		}},
		nx("pay.service.nacos.", dns.TypeA),
		nx("pay.service.G1.group.G1.group.nacos.", dns.TypeA),
		// Existing services without serving instances: NODATA.
		nodata("idle.service.nacos.", dns.TypeA),
		nodata("allsick.service.nacos.", dns.TypeA),
		nodata("allsick.service.nacos.", dns.TypeSRV),
		// Protect threshold reached: every enabled instance.
		{name: "guarded.service.nacos.", qtype: dns.TypeA, answer: []string{
			"guarded.service.nacos. 5 IN A 10.5.0.1", "guarded.service.nacos. 5 IN A 10.5.0.2", "guarded.service.nacos. 5 IN A 10.5.0.3",
		}},
		// Dotted service names and their empty non-terminals.
		{name: "com.example.api.service.nacos.", qtype: dns.TypeA, answer: []string{"com.example.api.service.nacos. 5 IN A 10.2.0.1"}},
		{name: "_com.example.api._tcp.service.nacos.", qtype: dns.TypeSRV,
			answer: []string{"_com.example.api._tcp.service.nacos. 5 IN SRV 1 65535 80 0a020001.addr.nacos."},
			extra:  []string{"0a020001.addr.nacos. 5 IN A 10.2.0.1"}},
		nodata("example.api.service.nacos.", dns.TypeA),
		nodata("api.service.nacos.", dns.TypeA),
		nodata("example.api._tcp.service.nacos.", dns.TypeSRV),
		nx("x.api.service.nacos.", dns.TypeA),
		nx("other._tcp.service.nacos.", dns.TypeSRV),
		// IPv6, port 0, shared targets.
		{name: "v6.service.nacos.", qtype: dns.TypeAAAA, answer: []string{"v6.service.nacos. 5 IN AAAA 2001:db8::1"}},
		{name: "v6.service.nacos.", qtype: dns.TypeANY, answer: []string{`v6.service.nacos. 5 IN HINFO "RFC8482" ""`}},
		{name: "v6.service.nacos.", qtype: dns.TypeSRV,
			answer: []string{"v6.service.nacos. 5 IN SRV 1 65535 80 20010db8000000000000000000000001.addr.nacos."},
			extra:  []string{"20010db8000000000000000000000001.addr.nacos. 5 IN AAAA 2001:db8::1"}},
		nodata("v6.service.nacos.", dns.TypeA),
		{name: "port0.service.nacos.", qtype: dns.TypeA, answer: []string{"port0.service.nacos. 5 IN A 10.0.1.1"}},
		nodata("port0.service.nacos.", dns.TypeSRV),
		{name: "multi.service.nacos.", qtype: dns.TypeSRV,
			answer: []string{"multi.service.nacos. 5 IN SRV 1 65535 80 0a060001.addr.nacos.", "multi.service.nacos. 5 IN SRV 1 65535 81 0a060001.addr.nacos."},
			extra:  []string{"0a060001.addr.nacos. 5 IN A 10.6.0.1"}},
		{name: "multi.service.nacos.", qtype: dns.TypeA, answer: []string{"multi.service.nacos. 5 IN A 10.6.0.1"}},
		// Address names.
		{name: srv1, qtype: dns.TypeA, answer: []string{srv1 + " 5 IN A 10.0.0.1"}},
		{name: "0A000001.ADDR.nacos.", qtype: dns.TypeA, answer: []string{"0A000001.ADDR.nacos. 5 IN A 10.0.0.1"}},
		{name: "20010db8000000000000000000000001.addr.nacos.", qtype: dns.TypeAAAA, answer: []string{"20010db8000000000000000000000001.addr.nacos. 5 IN AAAA 2001:db8::1"}},
		nodata(srv1, dns.TypeAAAA),
		nodata(srv1, dns.TypeTXT),
		nx("0a00001.addr.nacos.", dns.TypeA),
		nx("zz000001.addr.nacos.", dns.TypeA),
		nx("x."+srv1, dns.TypeA),
		nx("0a000001.addr.g.group.nacos.", dns.TypeA),
		// Structure of the scheme.
		nodata("service.nacos.", dns.TypeA),
		nodata("addr.nacos.", dns.TypeA),
		nodata("group.nacos.", dns.TypeA),
		nodata("G1.group.nacos.", dns.TypeA),
		nodata("ns1.ns.nacos.", dns.TypeA),
		nodata("service.G1.group.ns1.ns.nacos.", dns.TypeA),
		nx("nosuch.service.nacos.", dns.TypeA),
		nx("nosuch.nacos.", dns.TypeA),
		nx("x.nosuch.nacos.", dns.TypeA),
		nx("orders.service.ns.nacos.", dns.TypeA),
		// Apex and name server.
		{name: "nacos.", qtype: dns.TypeNS, answer: []string{"nacos. 5 IN NS ns.nacos."}, extra: []string{"ns.nacos. 5 IN A 127.0.0.1"}},
		{name: "ns.nacos.", qtype: dns.TypeA, answer: []string{"ns.nacos. 5 IN A 127.0.0.1"}},
		nodata("ns.nacos.", dns.TypeAAAA),
		nodata("nacos.", dns.TypeA),
		nodata("NACOS.", dns.TypeTXT),
		// Outside the zone, and zone transfers.
		{name: "example.com.", qtype: dns.TypeA, rcode: dns.RcodeRefused},
		{name: "nacos.example.", qtype: dns.TypeA, rcode: dns.RcodeRefused},
		{name: "nacos.", qtype: dns.TypeAXFR, rcode: dns.RcodeRefused},
	}
	for _, tc := range cases {
		t.Run(dns.Type(tc.qtype).String()+" "+tc.name, func(t *testing.T) {
			req := question(tc.name, tc.qtype, 0)
			resp := s.Resolve(req, false)
			if resp == nil {
				t.Fatal("no reply")
			}
			if resp.Rcode != tc.rcode {
				t.Fatalf("rcode %s, want %s\n%v", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tc.rcode], resp)
			}
			own := tc.rcode != dns.RcodeRefused
			if resp.Authoritative != own || resp.Id != req.Id || !resp.Response {
				t.Errorf("header: aa=%v id=%d qr=%v", resp.Authoritative, resp.Id, resp.Response)
			}
			if got, want := strs(resp.Answer), zoneText(t, tc.answer...); !equal(got, want) {
				t.Errorf("answer:\n got %q\nwant %q", got, want)
			}
			if got, want := strs(resp.Extra), zoneText(t, tc.extra...); !equal(got, want) {
				t.Errorf("additional:\n got %q\nwant %q", got, want)
			}
			checkSOA(t, resp, tc.soa)
			if resp.Truncated {
				t.Error("TC set on a small answer")
			}
			pack(t, resp)
		})
	}
}

// checkSOA checks Authority: the zone's SOA with the negative TTL when
// want, else nothing.
func checkSOA(t *testing.T, resp *dns.Msg, want bool) {
	t.Helper()
	if !want {
		if len(resp.Ns) != 0 {
			t.Errorf("authority: %v", resp.Ns)
		}
		return
	}
	if len(resp.Ns) != 1 {
		t.Fatalf("authority: want one SOA, got %v", resp.Ns)
	}
	soa, ok := resp.Ns[0].(*dns.SOA)
	if !ok || soa.Hdr.Name != "nacos." || soa.Hdr.Ttl != 5 || soa.Minttl != 5 ||
		soa.Ns != "ns.nacos." || soa.Mbox != "hostmaster.nacos." {
		t.Errorf("authority: %v", resp.Ns[0])
	}
}

func TestResolveSOASerialMovesWithData(t *testing.T) {
	c := fixture(t)
	s := newServer(t, c, nil)
	serial := func() uint32 {
		resp := s.Resolve(question("nacos.", dns.TypeSOA, 0), false)
		if len(resp.Answer) != 1 {
			t.Fatalf("SOA: %v", resp)
		}
		return resp.Answer[0].(*dns.SOA).Serial
	}
	before := serial()
	if again := serial(); again != before {
		t.Fatalf("serial moved without a change: %d then %d", before, again)
	}
	register(t, c, key("orders"), inst("10.0.0.7", 8080))
	if after := serial(); after == before || int32(after-before) < 0 {
		t.Errorf("serial %d after a change, was %d", after, before)
	}
}

func TestResolveChangeIsVisibleAtOnce(t *testing.T) {
	c := naming.NewCatalog()
	s := newServer(t, c, nil)
	a := func() *dns.Msg { return s.Resolve(question("web.service.nacos.", dns.TypeA, 0), false) }
	if resp := a(); resp.Rcode != dns.RcodeNameError {
		t.Fatalf("before any registration: %v", resp)
	}
	register(t, c, key("web"), inst("10.0.0.1", 80))
	register(t, c, key("web"), inst("10.0.0.2", 80))
	if n := len(a().Answer); n != 2 {
		t.Fatalf("after register: %d answers", n)
	}
	healthy := false
	target := naming.InstanceKey{IP: "10.0.0.2", Port: 80, Cluster: naming.DefaultCluster}
	op := naming.Op{Kind: naming.OpUpdateInstance, Time: 2000, Service: key("web"), Target: target, Patch: &naming.InstancePatch{Healthy: &healthy}}
	if err := c.Apply(op); err != nil {
		t.Fatal(err)
	}
	if n := len(a().Answer); n != 1 {
		t.Errorf("after marking one unhealthy: %d answers", n)
	}
	for _, ip := range []string{"10.0.0.1", "10.0.0.2"} {
		target.IP = ip
		if err := c.Apply(naming.Op{Kind: naming.OpDeregister, Time: 3000, Service: key("web"), Target: target}); err != nil {
			t.Fatal(err)
		}
	}
	if resp := a(); resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 0 {
		t.Errorf("all deregistered: want NODATA while the service exists, got %v", resp)
	}
	if err := c.Apply(naming.Op{Kind: naming.OpDeleteService, Time: 4000, Service: key("web")}); err != nil {
		t.Fatal(err)
	}
	if resp := a(); resp.Rcode != dns.RcodeNameError {
		t.Errorf("deleted service: want NXDOMAIN, got %v", resp)
	}
}

func TestResolveHeaderRules(t *testing.T) {
	s := newServer(t, fixture(t), nil)

	resp := question("orders.service.nacos.", dns.TypeA, 0)
	resp.Response = true
	if got := s.Resolve(resp, false); got != nil {
		t.Errorf("a response was answered: %v", got)
	}

	for _, op := range []int{dns.OpcodeNotify, dns.OpcodeUpdate, dns.OpcodeStatus, 15} {
		req := question("orders.service.nacos.", dns.TypeA, 1232)
		req.Opcode = op
		got := s.Resolve(req, false)
		if got.Rcode != dns.RcodeNotImplemented || len(got.Answer) != 0 || got.Opcode != op {
			t.Errorf("opcode %d: %v", op, got)
		}
	}

	none := new(dns.Msg)
	none.Id = 7
	if got := s.Resolve(none, false); got.Rcode != dns.RcodeFormatError {
		t.Errorf("no question: %v", got)
	}
	two := question("orders.service.nacos.", dns.TypeA, 0)
	two.Question = append(two.Question, two.Question[0])
	if got := s.Resolve(two, false); got.Rcode != dns.RcodeFormatError {
		t.Errorf("two questions: %v", got)
	}

	for _, class := range []uint16{dns.ClassCHAOS, dns.ClassHESIOD, dns.ClassNONE, 42} {
		req := question("orders.service.nacos.", dns.TypeA, 0)
		req.Question[0].Qclass = class
		if got := s.Resolve(req, false); got.Rcode != dns.RcodeRefused || got.Authoritative {
			t.Errorf("class %d: %v", class, got)
		}
	}
	anyClass := question("orders.service.nacos.", dns.TypeA, 0)
	anyClass.Question[0].Qclass = dns.ClassANY
	if got := s.Resolve(anyClass, false); len(got.Answer) != 3 {
		t.Errorf("class ANY: %v", got)
	}

	// The question comes back byte for byte; RD is copied; RA is not offered.
	req := question("oRdErS.sErViCe.NaCoS.", dns.TypeA, 0)
	req.RecursionDesired = true
	got := s.Resolve(req, false)
	if got.Question[0] != req.Question[0] || !got.RecursionDesired || got.RecursionAvailable {
		t.Errorf("echo: %v", got)
	}
	if len(got.Answer) != 1 || got.Answer[0].Header().Name != "oRdErS.sErViCe.NaCoS." {
		t.Errorf("answer to a mixed-case name: %v", got.Answer)
	}
	wire := pack(t, got)
	if !strings.Contains(string(wire), "\x06oRdErS\x07sErViCe\x05NaCoS\x00") {
		t.Errorf("question not echoed byte for byte: %q", wire)
	}

	bad := question("orders.service.nacos.", dns.TypeA, 0)
	bad.Question[0].Name = "orders..nacos."
	if got := s.Resolve(bad, false); got.Rcode != dns.RcodeFormatError {
		t.Errorf("malformed name: %v", got)
	}
}

func TestResolveShuffles(t *testing.T) {
	s := newServer(t, fixture(t), nil)
	orders := map[string]bool{}
	for i := 0; i < 200 && len(orders) < 2; i++ {
		resp := s.Resolve(question("orders.service.nacos.", dns.TypeSRV, 0), false)
		var b strings.Builder
		for _, rr := range resp.Answer {
			b.WriteString(rr.(*dns.SRV).Target)
		}
		orders[b.String()] = true
		checkGlue(t, resp)
	}
	if len(orders) < 2 {
		t.Errorf("200 answers came in one order")
	}
}

func TestSRVWeights(t *testing.T) {
	for _, tc := range []struct {
		w, max float64
		want   uint16
	}{
		{1, 1, 65535}, {1, 2, 32768}, {2, 2, 65535}, {0.01, 10000, 1}, {1, 10000, 7}, {10000, 10000, 65535}, {1, 3, 21845},
	} {
		if got := srvWeight(tc.w, tc.max); got != tc.want {
			t.Errorf("srvWeight(%v, %v) = %d, want %d", tc.w, tc.max, got, tc.want)
		}
	}
	// HAProxy uses (w+255)/256: weights 1 and 2 must stay apart.
	if a, b := (int(srvWeight(1, 2))+255)/256, (int(srvWeight(2, 2))+255)/256; a >= b {
		t.Errorf("HAProxy weights %d and %d", a, b)
	}
}

// TestResolveConcurrentWithChanges queries while the catalog changes; run
// with -race it checks that prepared answers are shared safely.
func TestResolveConcurrentWithChanges(t *testing.T) {
	c := fixture(t)
	s := newServer(t, c, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			in := inst("10.8.0.1", 80+i%3)
			in.Healthy = i%2 == 0
			if err := c.Apply(naming.Op{Kind: naming.OpRegister, Time: 2000, Service: key("orders"), Instance: in}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for _, name := range []string{"orders.service.nacos.", "_orders._tcp.service.nacos."} {
		for i := 0; i < 200; i++ {
			for _, qt := range []uint16{dns.TypeA, dns.TypeSRV} {
				resp := s.Resolve(question(name, qt, 1232), i%2 == 0)
				if resp.Rcode != dns.RcodeSuccess {
					t.Fatalf("%s: %v", name, resp)
				}
				pack(t, resp)
			}
		}
	}
	<-done
}
