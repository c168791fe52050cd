package dnsfront

import (
	"testing"

	"github.com/miekg/dns"
)

func countOf(st Stats, typ, rcode string) uint64 {
	for _, q := range st.Queries {
		if q.Type == typ && q.Rcode == rcode {
			return q.Count
		}
	}
	return 0
}

func TestStatsCountRepliesByTypeAndRcode(t *testing.T) {
	s := startServer(t, fixture(t), nil)
	if st := s.Stats(); st.Total() != 0 || st.TCP != 0 {
		t.Fatalf("fresh server counts %+v", st)
	}
	exchange(t, s, question("orders.service.nacos.", dns.TypeA, 0), "udp")
	exchange(t, s, question("orders.service.nacos.", dns.TypeA, 1232), "tcp")
	exchange(t, s, question("_orders._tcp.service.nacos.", dns.TypeSRV, 1232), "udp")
	exchange(t, s, question("nosuch.service.nacos.", dns.TypeAAAA, 0), "udp")
	exchange(t, s, question("example.com.", dns.TypeHINFO, 0), "udp")
	bad := question("orders.service.nacos.", dns.TypeA, 1232)
	bad.IsEdns0().SetVersion(1)
	exchange(t, s, bad, "udp")

	st := s.Stats()
	for _, c := range []struct {
		typ, rcode string
		want       uint64
	}{
		{"A", "NOERROR", 2},
		{"SRV", "NOERROR", 1},
		{"AAAA", "NXDOMAIN", 1},
		{"other", "REFUSED", 1},
		{"A", "BADVERS", 1},
	} {
		if got := countOf(st, c.typ, c.rcode); got != c.want {
			t.Errorf("%s/%s = %d, want %d (all: %+v)", c.typ, c.rcode, got, c.want, st.Queries)
		}
	}
	if st.Total() != 6 || st.TCP != 1 {
		t.Errorf("total %d (want 6), tcp %d (want 1)", st.Total(), st.TCP)
	}
}

func TestSlotsCoverEveryRcodeAndType(t *testing.T) {
	for rc := -1; rc < 70000; rc += 97 {
		if s := rcodeSlot(rc); s < 0 || s >= nRcode {
			t.Fatalf("rcode %d maps to slot %d", rc, s)
		}
	}
	if rcodeName(rcodeSlot(dns.RcodeNameError)) != "NXDOMAIN" || rcodeName(rcodeSlot(12)) != "12" || rcodeName(rcodeSlot(4000)) != "other" {
		t.Error("rcode names")
	}
	if qtypeSlot(&dns.Msg{}) != slotNone || qtypeName(slotNone) != "none" || qtypeName(qtypeSlot(question("x.", dns.TypeSRV, 0))) != "SRV" {
		t.Error("qtype names")
	}
}

// BenchmarkStatsCount is the cost the counters add to every reply.
func BenchmarkStatsCount(b *testing.B) {
	var q queryStats
	req := question("orders.service.nacos.", dns.TypeSRV, 0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			q.count(req, dns.RcodeSuccess, false, false)
		}
	})
}
