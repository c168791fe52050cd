package dnsfront

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"sextant/naming"
)

// randomCase spells name with letters in random case (DNS 0x20).
func randomCase(r *rand.Rand, name string) string {
	b := []byte(name)
	for i, c := range b {
		if c >= 'a' && c <= 'z' && r.IntN(2) == 0 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// sameReply fails unless the wire reply and the full path's reply to req
// agree: the header, the question bytes as asked, every section as a set,
// and the size. Record order may differ; when the reply is truncated,
// which records were kept may differ too.
func sameReply(t *testing.T, label string, query, wire []byte, full *dns.Msg) {
	t.Helper()
	fb, err := full.Pack()
	if err != nil {
		t.Fatalf("%s: full reply does not pack: %v", label, err)
	}
	var w dns.Msg
	if err := w.Unpack(wire); err != nil {
		t.Fatalf("%s: wire reply does not unpack: %v (%x)", label, err, wire)
	}
	var f dns.Msg
	if err := f.Unpack(fb); err != nil {
		t.Fatal(err)
	}
	if w.MsgHdr != f.MsgHdr {
		t.Errorf("%s: header %+v, full path %+v", label, w.MsgHdr, f.MsgHdr)
	}
	qEnd := questionEnd(t, query)
	if !bytes.Equal(wire[headerLen:qEnd], query[headerLen:qEnd]) {
		t.Errorf("%s: question %x, asked %x", label, wire[headerLen:qEnd], query[headerLen:qEnd])
	}
	if len(wire) != len(fb) {
		t.Errorf("%s: %d bytes, full path %d", label, len(wire), len(fb))
	}
	if w.Truncated {
		if len(w.Answer) != len(f.Answer) {
			t.Errorf("%s: %d answers, full path %d", label, len(w.Answer), len(f.Answer))
		}
		return
	}
	for _, sec := range []struct {
		name string
		a, b []dns.RR
	}{{"answer", w.Answer, f.Answer}, {"authority", w.Ns, f.Ns}, {"additional", w.Extra, f.Extra}} {
		if a, b := strs(sec.a), strs(sec.b); !equal(a, b) {
			t.Errorf("%s: %s\n%v\nfull path\n%v", label, sec.name, a, b)
		}
	}
	if (w.IsEdns0() == nil) != (f.IsEdns0() == nil) || (w.IsEdns0() != nil && w.IsEdns0().String() != f.IsEdns0().String()) {
		t.Errorf("%s: OPT %v, full path %v", label, w.IsEdns0(), f.IsEdns0())
	}
}

// questionEnd returns where the question of an uncompressed query ends.
func questionEnd(t *testing.T, query []byte) int {
	t.Helper()
	off := headerLen
	for off < len(query) && query[off] != 0 {
		off += 1 + int(query[off])
	}
	if off+1+questionFixed > len(query) {
		t.Fatalf("no question in %x", query)
	}
	return off + 1 + questionFixed
}

// wireAndFull answers a packed query both ways, twice on the wire path so
// the second answer comes from the cache.
func wireAndFull(t *testing.T, s *Server, label string, query []byte, client netip.Addr) (answered bool) {
	t.Helper()
	for round := 0; round < 2; round++ {
		wire, res := s.answerWire(query, client, nil)
		if res != wireReply {
			return false
		}
		req := new(dns.Msg)
		if err := req.Unpack(query); err != nil {
			t.Fatalf("%s: the wire path answered a query that does not unpack", label)
		}
		full := s.ResolveFrom(req, false, client)
		sameReply(t, fmt.Sprintf("%s (round %d)", label, round), query, wire, full)
	}
	return true
}

func TestWireMatchesFullPath(t *testing.T) {
	c := fixture(t)
	bigService(t, c, "big", 60)
	createService(t, c, key("clustered"), 0)
	for _, cl := range []string{"a", "b"} {
		in := inst("10.8.0.1", 80)
		in.Cluster = cl
		register(t, c, key("clustered"), in)
	}
	// Clients outside loopback, queries by the hundred: no rate limit here.
	s := newServer(t, c, func(cfg *Config) { cfg.Recursors, cfg.RateLimit = []string{"127.0.0.1:1"}, 0 })
	r := rand.New(rand.NewPCG(1, 2))
	names := []string{
		"orders.service.nacos.", "_orders._tcp.service.nacos.", "_http._tcp.orders.service.nacos.",
		"v6.service.nacos.", "_v6._udp.service.nacos.", "big.service.nacos.", "_big._tcp.service.nacos.",
		"com.example.api.service.nacos.", "pay.service.g1.group.ns1.ns.nacos.", "multi.service.nacos.",
		"_multi._tcp.service.nacos.", "orders.service.east.cluster.nacos.", "clustered.service.b.cluster.nacos.",
		"guarded.service.nacos.", "allsick.service.nacos.", "idle.service.nacos.", "missing.service.nacos.",
		"port0.service.nacos.", "_port0._tcp.service.nacos.", "nacos.", "0a000001.addr.nacos.", "example.com.",
	}
	answered := 0
	for _, name := range names {
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypeTXT, dns.TypeANY, dns.TypeMX} {
			for _, size := range []uint16{0, 512, 600, 1232, 4096} {
				for _, do := range []bool{false, true} {
					if do && size == 0 {
						continue
					}
					spelling := name
					if r.IntN(2) == 0 {
						spelling = randomCase(r, name)
					}
					m := question(spelling, qt, size)
					if do {
						m.IsEdns0().SetDo()
					}
					m.Id = uint16(r.Uint32())
					m.RecursionDesired = r.IntN(2) == 0
					m.CheckingDisabled = r.IntN(2) == 0
					for _, client := range []netip.Addr{mustAddr("127.0.0.1"), mustAddr("192.0.2.1")} {
						label := fmt.Sprintf("%s %s size %d do %v from %v", spelling, dns.TypeToString[qt], size, do, client)
						if wireAndFull(t, s, label, pack(t, m), client) {
							answered++
						}
					}
				}
			}
		}
	}
	t.Logf("answered on the wire path: %d", answered)
	if answered < 200 {
		t.Errorf("the wire path answered only %d queries", answered)
	}
	// EDNS options the full path ignores (cookie, padding, NSID) do not
	// keep a query off the wire path; others (ECS) do.
	withOpts := func(opts ...dns.EDNS0) []byte {
		m := question("_multi._tcp.service.nacos.", dns.TypeSRV, 1232)
		m.IsEdns0().Option = opts
		return pack(t, m)
	}
	cookie := &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}
	padding := &dns.EDNS0_PADDING{Padding: make([]byte, 20)}
	nsid := &dns.EDNS0_NSID{Code: dns.EDNS0NSID}
	for _, q := range [][]byte{withOpts(cookie), withOpts(cookie, padding), withOpts(nsid)} {
		if !wireAndFull(t, s, "with options", q, netip.Addr{}) {
			t.Errorf("query with options %x not answered on the wire path", q)
		}
	}
	ecs := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: mustAddr("192.0.2.0").AsSlice()}
	if _, res := s.answerWire(withOpts(cookie, ecs), netip.Addr{}, nil); res != wirePass {
		t.Error("query with ECS answered on the wire path")
	}
	// The last byte cut off, and the OPT's RDLENGTH with it: the cookie
	// option now claims one byte more than there is.
	broken := withOpts(cookie)
	broken = broken[:len(broken)-1]
	rdlen := questionEnd(t, broken) + 9
	broken[rdlen+1]--
	if _, res := s.answerWire(broken, netip.Addr{}, nil); res != wirePass {
		t.Error("malformed options answered on the wire path")
	}
	// Truncated answers and names that differ only in case are left to
	// the full path; so are escapes and class CH.
	for _, m := range []*dns.Msg{
		question("big.service.nacos.", dns.TypeA, 0),
		question("orders.service.nacos.", dns.TypeA, 0),
		question("Orders.service.nacos.", dns.TypeA, 0),
		question(`a\.b.service.nacos.`, dns.TypeA, 0),
	} {
		if _, res := s.answerWire(pack(t, m), netip.Addr{}, nil); res != wirePass {
			t.Errorf("%s: answered on the wire path", m.Question[0].Name)
		}
	}
	ch := question("multi.service.nacos.", dns.TypeA, 0)
	ch.Question[0].Qclass = dns.ClassCHAOS
	if _, res := s.answerWire(pack(t, ch), netip.Addr{}, nil); res != wirePass {
		t.Error("class CH answered on the wire path")
	}
}

func TestWireVariesOrder(t *testing.T) {
	s := newServer(t, fixture(t), nil)
	q := pack(t, question("_multi._tcp.service.nacos.", dns.TypeSRV, 0))
	firsts := map[string]int{}
	for i := 0; i < 300; i++ {
		wire, res := s.answerWire(q, netip.Addr{}, nil)
		if res != wireReply {
			t.Fatal("not answered on the wire path")
		}
		var m dns.Msg
		if err := m.Unpack(wire); err != nil {
			t.Fatal(err)
		}
		firsts[m.Answer[0].String()]++
	}
	if len(firsts) != 2 {
		t.Fatalf("first records seen: %v", firsts)
	}
	for rr, n := range firsts {
		if n < 60 {
			t.Errorf("%s first %d times of 300", rr, n)
		}
	}
}

func TestWireFollowsChanges(t *testing.T) {
	c := naming.NewCatalog()
	register(t, c, key("live"), inst("10.7.0.1", 80))
	s := newServer(t, c, nil)
	q := pack(t, question("live.service.nacos.", dns.TypeA, 0))
	count := func() int {
		t.Helper()
		wire, res := s.answerWire(q, netip.Addr{}, nil)
		if res != wireReply {
			t.Fatal("not answered on the wire path")
		}
		var m dns.Msg
		if err := m.Unpack(wire); err != nil {
			t.Fatal(err)
		}
		return len(m.Answer)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d answers", n)
	}
	register(t, c, key("live"), inst("10.7.0.2", 80))
	if n := count(); n != 2 {
		t.Fatalf("after a registration: %d answers", n)
	}
	// Another spelling makes the answer depend on case: the full path
	// takes over, and the wire path returns once it is gone.
	register(t, c, key("LIVE"), inst("10.7.9.9", 80))
	if _, res := s.answerWire(q, netip.Addr{}, nil); res != wirePass {
		t.Fatal("answered on the wire path while two spellings exist")
	}
	if resp := s.Resolve(question("LIVE.service.nacos.", dns.TypeA, 0), false); len(resp.Answer) != 1 {
		t.Fatalf("exact spelling: %v", resp)
	}
	if err := c.Apply(naming.Op{Kind: naming.OpDeregister, Time: 2000, Service: key("LIVE"),
		Target: naming.InstanceKey{IP: "10.7.9.9", Port: 80, Cluster: naming.DefaultCluster}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(naming.Op{Kind: naming.OpDeleteService, Time: 2001, Service: key("LIVE")}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("after the other spelling went: %d answers", n)
	}
}

// TestWireUnderConcurrentChanges queries while instances come and go;
// once the changes stop, the wire path must give the final state.
func TestWireUnderConcurrentChanges(t *testing.T) {
	c := naming.NewCatalog()
	register(t, c, key("churn"), inst("10.9.0.1", 80))
	s := newServer(t, c, nil)
	q := pack(t, question("churn.service.nacos.", dns.TypeA, 0))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			ip := fmt.Sprintf("10.9.1.%d", i%50+1)
			register(t, c, key("churn"), inst(ip, 80))
			if err := c.Apply(naming.Op{Kind: naming.OpDeregister, Time: 2000, Service: key("churn"),
				Target: naming.InstanceKey{IP: ip, Port: 80, Cluster: naming.DefaultCluster}}); err != nil {
				t.Error(err)
				return
			}
		}
		register(t, c, key("churn"), inst("10.9.0.2", 80))
	}()
	out := make([]byte, 0, packBufSize)
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			s.answerWire(q, netip.Addr{}, out)
		}
	}
	wire, res := s.answerWire(q, netip.Addr{}, nil)
	if res != wireReply {
		t.Fatal("not answered on the wire path")
	}
	var m dns.Msg
	if err := m.Unpack(wire); err != nil {
		t.Fatal(err)
	}
	if got := strs(m.Answer); len(got) != 2 || !strings.Contains(got[0], "10.9.0.1") || !strings.Contains(got[1], "10.9.0.2") {
		t.Fatalf("final answer %v", got)
	}
}

func TestWireRateLimitSlipsLikeFullPath(t *testing.T) {
	for _, size := range []uint16{0, 1232} {
		s := newServer(t, fixture(t), func(cfg *Config) { cfg.RateLimit = 1 })
		client := mustAddr("192.0.2.7")
		q := pack(t, question("multi.service.nacos.", dns.TypeA, size))
		outcomes := map[wireOutcome]int{}
		for i := 0; i < 6; i++ {
			wire, res := s.answerWire(q, client, nil)
			outcomes[res]++
			if res != wireReply || i == 0 {
				continue
			}
			// Answers after the first are over the limit: sent empty with TC.
			full := s.ResolveFrom(mustUnpack(t, q), false, client)
			slip(full)
			sameReply(t, fmt.Sprintf("slip size %d", size), q, wire, full)
		}
		if outcomes[wireReply] != 3 || outcomes[wireDrop] != 3 {
			t.Errorf("size %d: outcomes %v", size, outcomes)
		}
		if d, tr := s.RateLimited(); d != 3 || tr != 2 {
			t.Errorf("size %d: dropped %d, truncated %d", size, d, tr)
		}
	}
}

func mustUnpack(t testing.TB, b []byte) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWireCountsStats(t *testing.T) {
	s := newServer(t, fixture(t), nil)
	q := pack(t, question("_multi._tcp.service.nacos.", dns.TypeSRV, 0))
	for i := 0; i < 3; i++ {
		if _, res := s.answerWire(q, netip.Addr{}, nil); res != wireReply {
			t.Fatal("not answered on the wire path")
		}
	}
	st := s.Stats()
	if len(st.Queries) != 1 || st.Queries[0] != (QueryCount{Type: "SRV", Rcode: "NOERROR", Count: 3}) {
		t.Fatalf("stats: %+v", st)
	}
}

func FuzzWire(f *testing.F) {
	for _, n := range fuzzNames {
		if _, ok := dns.IsDomainName(n); !ok || n == "" {
			continue
		}
		for _, qt := range []uint16{dns.TypeA, dns.TypeSRV, dns.TypeANY} {
			for _, size := range []uint16{0, 1232} {
				if b, err := question(dns.Fqdn(n), qt, size).Pack(); err == nil {
					f.Add(b)
				}
			}
		}
	}
	f.Add([]byte{})
	c := fixture(f)
	bigService(f, c, "big", 60)
	s := newServer(f, c, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		wire, res := s.answerWire(data, netip.Addr{}, nil)
		if res != wireReply {
			return
		}
		req := new(dns.Msg)
		if err := req.Unpack(data); err != nil {
			t.Fatalf("answered %x, which does not unpack: %v", data, err)
		}
		full := s.ResolveFrom(req, false, netip.Addr{})
		sameReply(t, strings.TrimSpace(req.Question[0].String()), data, wire, full)
	})
}

// BenchmarkQueryWire measures the whole UDP query path from the bytes of
// a query to the bytes of its reply, as the socket loop runs it, for a
// service of 3 instances (no EDNS, as the load test sends).
func BenchmarkQueryWire(b *testing.B) {
	_, s := ordersServer(b)
	client := mustAddr("127.0.0.1")
	for _, tc := range []benchQuery{{"A", "orders.service.nacos.", dns.TypeA}, {"SRV", "_orders._tcp.service.nacos.", dns.TypeSRV}} {
		q := pack(b, question(tc.qname, tc.qtype, 0))
		out := make([]byte, 0, packBufSize)
		if _, res := s.answerWire(q, client, out); res != wireReply {
			b.Fatalf("%s: not answered on the wire path", tc.name)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.answerWire(q, client, out)
			}
		})
	}
}

// TestMarkerOfReplacedEntryIsNotCurrent: a query that looked a service up
// just before a change replaced its entry leaves a marker bound to the
// dead entry; that marker must not keep later queries off the wire path.
func TestMarkerOfReplacedEntryIsNotCurrent(t *testing.T) {
	c := naming.NewCatalog()
	register(t, c, key("swap"), inst("10.9.0.1", 80))
	s := newServer(t, c, nil)
	old := s.idx.lookup(key("swap"))
	if old == nil {
		t.Fatal("no entry")
	}
	register(t, c, key("swap"), inst("10.9.0.2", 80))
	if s.idx.lookup(key("swap")) == old {
		t.Fatal("the change did not replace the entry")
	}
	if ws := (&wireSet{owner: old, gen: old.wire.Load()}); s.wireCurrent(ws) {
		t.Fatal("a marker of the replaced entry is still current")
	}
	q := pack(t, question("swap.service.nacos.", dns.TypeA, 0))
	if _, res := s.answerWire(q, netip.Addr{}, nil); res != wireReply {
		t.Fatal("not answered on the wire path after the change")
	}
}
