package dnsfront

import (
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"sextant/naming"
)

func TestZoneBumpMovesSerialWithoutAllocating(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	z := newZone("nacos.", 5*time.Second, 5*time.Second, "", start)
	first := z.soaRRs()[0].(*dns.SOA).Serial
	if first != 1_000_000 {
		t.Fatalf("first serial %d, want the Unix time 1000000", first)
	}
	// Within the same second the serial moves by one per change.
	if n := testing.AllocsPerRun(100, func() { z.bump(start) }); n != 0 {
		t.Fatalf("a bump allocates %v times", n)
	}
	got := z.soaRRs()[0].(*dns.SOA).Serial
	if want := first + 101; got != want { // AllocsPerRun runs once more to warm up
		t.Fatalf("serial %d after 101 bumps in one second, want %d", got, want)
	}
	// A later clock moves it to the time, an earlier one by one.
	z.bump(start.Add(time.Hour))
	if got := z.soaRRs()[0].(*dns.SOA).Serial; got != 1_003_600 {
		t.Fatalf("serial %d after an hour, want 1003600", got)
	}
	z.bump(start)
	if got := z.soaRRs()[0].(*dns.SOA).Serial; got != 1_003_601 {
		t.Fatalf("serial %d after a clock step back, want 1003601", got)
	}
	// The record is built once per serial and shared.
	if a, b := z.soaRRs(), z.soaRRs(); &a[0] != &b[0] {
		t.Fatal("the SOA of one serial was built twice")
	}
}

// TestZoneSerialNeverGoesBack bumps from several goroutines while others
// read the SOA: every reader sees serials that never decrease, and every
// bump moves the serial.
func TestZoneSerialNeverGoesBack(t *testing.T) {
	now := time.Unix(2_000_000, 0)
	z := newZone("nacos.", 5*time.Second, 5*time.Second, "", now)
	const writers, bumps = 4, 500
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan string, 4)
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last uint32
			for i := 0; ; i++ {
				s := z.soaRRs()[0].(*dns.SOA).Serial
				if int32(s-last) < 0 {
					errs <- "serial went back"
					return
				}
				last = s
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	var bw sync.WaitGroup
	for w := 0; w < writers; w++ {
		bw.Add(1)
		go func() {
			defer bw.Done()
			for i := 0; i < bumps; i++ {
				z.bump(now)
			}
		}()
	}
	bw.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if got, want := z.soaRRs()[0].(*dns.SOA).Serial, uint32(2_000_000+writers*bumps); got != want {
		t.Fatalf("serial %d after %d bumps, want %d", got, writers*bumps, want)
	}
}

// TestWireMarkersOutlastUnrelatedChanges queries names the wire path
// cannot keep an answer for, changes an unrelated service, and queries
// again: the marker made by the first query still stands (the query goes
// straight to the full path), while the full path's answer carries the
// new serial. A change to the name's own service, or a service appearing
// under the name, ends the marker.
func TestWireMarkersOutlastUnrelatedChanges(t *testing.T) {
	c := naming.NewCatalog()
	register(t, c, key("orders"), inst("10.0.0.1", 8080))
	register(t, c, key("other"), inst("10.0.0.9", 8080))
	s := newServer(t, c, nil)
	client := mustAddr("127.0.0.1")
	type probe struct {
		name  string
		qtype uint16
	}
	nx := probe{"web.service.nacos.", dns.TypeA}           // no such service
	nodata := probe{"orders.service.nacos.", dns.TypeAAAA} // the service has no IPv6 address
	apex := probe{"nacos.", dns.TypeSOA}
	marker := func(p probe) *wireSet {
		t.Helper()
		q := pack(t, question(p.name, p.qtype, 0))
		if _, res := s.answerWire(q, client, make([]byte, 0, packBufSize)); res != wirePass {
			t.Fatalf("%s %s answered on the wire path", p.name, dns.TypeToString[p.qtype])
		}
		var kb [wireKeyMax]byte
		wq, ok := parseWireQuery(q, s.cfg.MaxUDPSize, &kb)
		if !ok {
			t.Fatal("query not of the wire kind")
		}
		ws := s.wire.get(wq.key)
		if ws == nil || ws.variants != nil {
			t.Fatalf("%s: no marker left", p.name)
		}
		return ws
	}
	serialIn := func(p probe) uint32 {
		t.Helper()
		m := s.Resolve(question(p.name, p.qtype, 0), false)
		for _, rr := range append(m.Answer, m.Ns...) {
			if soa, ok := rr.(*dns.SOA); ok {
				return soa.Serial
			}
		}
		t.Fatalf("%s: no SOA in %v", p.name, m)
		return 0
	}
	before := map[probe]*wireSet{}
	serials := map[probe]uint32{}
	for _, p := range []probe{nx, nodata, apex} {
		before[p] = marker(p)
		serials[p] = serialIn(p)
	}
	register(t, c, key("other"), inst("10.0.0.10", 8080))
	for _, p := range []probe{nx, nodata, apex} {
		if !s.wireCurrent(before[p]) {
			t.Errorf("%s: a change to another service ended the marker", p.name)
		}
		if after := marker(p); after != before[p] {
			t.Errorf("%s: the marker was made again", p.name)
		}
		if got := serialIn(p); int32(got-serials[p]) <= 0 {
			t.Errorf("%s: serial %d after a change, was %d", p.name, got, serials[p])
		}
	}
	// The name's own service changes: its marker ends, the others stand.
	register(t, c, key("orders"), inst("10.0.0.2", 8080))
	if s.wireCurrent(before[nodata]) {
		t.Error("a change to orders left its marker standing")
	}
	if !s.wireCurrent(before[nx]) || !s.wireCurrent(before[apex]) {
		t.Error("a change to orders ended unrelated markers")
	}
	// A service appears under the missing name: its marker ends and the
	// name is answered on the wire path.
	register(t, c, key("web"), inst("10.0.0.3", 80))
	if s.wireCurrent(before[nx]) {
		t.Error("registering web left the marker of web standing")
	}
	q := pack(t, question(nx.name, nx.qtype, 0))
	if _, res := s.answerWire(q, client, make([]byte, 0, packBufSize)); res != wireReply {
		t.Fatal("web is not answered on the wire path after it was registered")
	}
	if !s.wireCurrent(before[apex]) {
		t.Error("a new service ended the apex marker")
	}
}
