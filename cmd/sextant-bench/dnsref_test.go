package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// answer builds a packed reply like Sextant's: A records, or SRV records
// with the targets' A records in Additional.
func answer(t *testing.T, q dnsQuery, ips ...string) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	m.Response, m.Authoritative = true, true
	for i, ip := range ips {
		a := &dns.A{Hdr: dns.RR_Header{Name: q.name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.ParseIP(ip)}
		if q.qtype == dns.TypeSRV {
			target := strings.ReplaceAll(ip, ".", "-") + ".addr.nacos."
			m.Answer = append(m.Answer, &dns.SRV{Hdr: dns.RR_Header{Name: q.name, Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 5},
				Weight: 65535, Port: uint16(8080 + i), Target: target})
			a.Hdr.Name = target
			m.Extra = append(m.Extra, a)
		} else {
			m.Answer = append(m.Answer, a)
		}
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestZoneFileServesTheSameRecords(t *testing.T) {
	qs := queryMix([]string{"orders", "users"}, "nacos.")
	if len(qs) != 4 || qs[0].qtype != dns.TypeSRV || qs[0].name != "_orders._tcp.service.nacos." || qs[1].name != "orders.service.nacos." {
		t.Fatalf("query mix %+v", qs)
	}
	var msgs [][]byte
	for i, q := range qs {
		base := []string{"127.1.0.1", "127.1.0.2"}
		if i >= 2 {
			base = []string{"127.1.0.3"}
		}
		msgs = append(msgs, answer(t, q, base...))
	}
	z, err := zoneFile("nacos.", "127.0.0.1", msgs)
	if err != nil {
		t.Fatal(err)
	}
	zp := dns.NewZoneParser(strings.NewReader(z), "", "")
	count := map[uint16]int{}
	owners := map[string]bool{}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		count[rr.Header().Rrtype]++
		owners[rr.Header().Name] = true
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone does not parse: %v\n%s", err, z)
	}
	// 3 SRV; 3 A answers + 3 target A records + the NS address; SOA, NS.
	if count[dns.TypeSRV] != 3 || count[dns.TypeA] != 7 || count[dns.TypeSOA] != 1 || count[dns.TypeNS] != 1 {
		t.Errorf("record counts %v:\n%s", count, z)
	}
	for _, o := range []string{"_orders._tcp.service.nacos.", "users.service.nacos.", "127-1-0-3.addr.nacos."} {
		if !owners[o] {
			t.Errorf("zone lacks %s:\n%s", o, z)
		}
	}
	z2, _ := zoneFile("nacos.", "127.0.0.1", append(msgs, msgs...))
	if z2 != z {
		t.Error("repeated answers changed the zone (records must appear once, in a stable order)")
	}
	if _, err := zoneFile("other.", "127.0.0.1", msgs); err == nil {
		t.Error("records outside the zone accepted")
	}
}

func TestAnswersFileRoundTripAndIndex(t *testing.T) {
	qs := queryMix([]string{"Orders"}, "nacos.")
	msgs := [][]byte{answer(t, qs[0], "127.1.0.1"), answer(t, qs[1], "127.1.0.1", "127.1.0.2")}
	var buf bytes.Buffer
	if err := writeAnswers(&buf, msgs); err != nil {
		t.Fatal(err)
	}
	back, err := readAnswers(bytes.NewReader(buf.Bytes()))
	if err != nil || len(back) != 2 || !bytes.Equal(back[1], msgs[1]) {
		t.Fatalf("round trip: %d msgs, err %v", len(back), err)
	}
	if _, err := readAnswers(bytes.NewReader(buf.Bytes()[:buf.Len()-3])); err == nil {
		t.Error("truncated file accepted")
	}
	idx, err := indexAnswers(back)
	if err != nil {
		t.Fatal(err)
	}
	// Keys are lowercase, so a query in any case finds its answer.
	if _, ok := idx[answerKey{"orders.service.nacos.", dns.TypeA}]; !ok {
		t.Errorf("index keys: %v", idx)
	}
}

// TestRefServerAndGoLoad runs the reference handler on a loopback socket:
// it answers the stored bytes under the query's ID, and the built-in load
// generator gets answers from it.
func TestRefServerAndGoLoad(t *testing.T) {
	qs := queryMix([]string{"orders"}, "nacos.")
	msgs := [][]byte{answer(t, qs[0], "127.1.0.1"), answer(t, qs[1], "127.1.0.1")}
	idx, err := indexAnswers(msgs)
	if err != nil {
		t.Fatal(err)
	}
	h := &refHandler{idx: idx}
	h.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	defer srv.Shutdown()
	<-started
	addr := pc.LocalAddr().String()

	q, _ := packQuery(qs[1], 0xbeef)
	raw, err := exchangeRaw(addr, q, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var m dns.Msg
	if err := m.Unpack(raw); err != nil || m.Id != 0xbeef || len(m.Answer) != 1 {
		t.Fatalf("reply id %x answers %d err %v", m.Id, len(m.Answer), err)
	}
	unknown, _ := packQuery(dnsQuery{"nope.service.nacos.", dns.TypeA}, 7)
	raw, err = exchangeRaw(addr, unknown, time.Second)
	if err != nil || (m.Unpack(raw) != nil || m.Rcode != dns.RcodeNameError) {
		t.Errorf("unknown name: rcode %d err %v", m.Rcode, err)
	}

	r, err := goDNSLoad(context.Background(), addr, qs, 2, 4, 300*time.Millisecond)
	if err != nil || r.QPS <= 0 {
		t.Errorf("load: %+v err %v", r, err)
	}
	got, err := captureAnswers(addr, qs)
	if err != nil || len(got) != 2 {
		t.Errorf("capture: %d err %v", len(got), err)
	}
}
