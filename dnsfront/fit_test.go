package dnsfront

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"sextant/naming"
)

// staticSource is a naming.ServiceReader that never changes: a stand-in for a gateway
// cache, and a cheap way to hold services too big to register one by one.
type staticSource map[naming.ServiceKey]*naming.Service

func (s staticSource) Service(k naming.ServiceKey) (*naming.Service, bool) {
	svc, ok := s[k]
	return svc, ok
}

func (s staticSource) Services(string, string) []*naming.Service {
	out := make([]*naming.Service, 0, len(s))
	for _, svc := range s {
		out = append(out, svc)
	}
	return out
}

func (s staticSource) Watch(func(naming.ServiceKey)) func() { return func() {} }

// addService adds a service of n instances at consecutive addresses from
// first, all on port 8080.
func (s staticSource) addService(name string, n int, first string) {
	ip := netip.MustParseAddr(first)
	svc := &naming.Service{Key: key(name)}
	for i := 0; i < n; i++ {
		svc.Instances = append(svc.Instances, inst(ip.String(), 8080))
		ip = ip.Next()
	}
	s[svc.Key] = svc
}

// pairLen is the wire size of one SRV record of the service and its
// address record, for the "filled" checks below; beyond pointer reach the
// address record's owner costs its first label too.
func pairLen(resp *dns.Msg, far bool) int {
	srv := resp.Answer[0].(*dns.SRV)
	n := answerOverhead + srvFixedRdata + nameLen(srv.Target) + ptrLen + rrFixedLen + 4
	if v6 := len(srv.Target) > 40; v6 {
		n += 12
	}
	if far {
		n += 1 + strings.IndexByte(srv.Target, '.')
	}
	return n
}

func TestTruncateSRVKeepsPairs(t *testing.T) {
	src := staticSource{}
	src.addService("big", 60, "10.1.0.1")
	src.addService("big6", 60, "2001:db8::1")
	s := newServer(t, src, nil)
	for _, name := range []string{"_big._tcp.service.nacos.", "_BIG._tcp.SERVICE.nacos.", "_big6._tcp.service.nacos."} {
		udp := s.Resolve(question(name, dns.TypeSRV, 4096), false)
		size := len(pack(t, udp))
		switch {
		case !udp.Truncated:
			t.Errorf("%s over UDP: TC not set", name)
		case size > 1232:
			t.Errorf("%s over UDP: %d bytes", name, size)
		case len(udp.Answer) == 0 || len(udp.Extra) != len(udp.Answer)+1:
			t.Errorf("%s over UDP: %d SRV with %d additional records", name, len(udp.Answer), len(udp.Extra))
		case 1232-size >= pairLen(udp, false):
			t.Errorf("%s over UDP: %d bytes left unused, room for another pair", name, 1232-size)
		}
		checkGlue(t, udp)

		tcp := s.Resolve(question(name, dns.TypeSRV, 4096), true)
		if tcp.Truncated || len(tcp.Answer) != 60 || len(tcp.Extra) != 61 {
			t.Errorf("%s over TCP: tc=%v %d SRV %d additional", name, tcp.Truncated, len(tcp.Answer), len(tcp.Extra))
		}
		checkGlue(t, tcp)
	}
}

func TestTruncateGlueFirstWithoutTC(t *testing.T) {
	src := staticSource{}
	src.addService("ten", 10, "10.1.0.1")
	s := newServer(t, src, nil)
	resp := s.Resolve(question("_ten._tcp.service.nacos.", dns.TypeSRV, 0), false)
	size := len(pack(t, resp))
	glue := len(resp.Extra)
	switch {
	case resp.Truncated:
		t.Error("TC set although every SRV record fits")
	case len(resp.Answer) != 10:
		t.Errorf("%d SRV records, want 10", len(resp.Answer))
	case glue == 0 || glue >= 10:
		t.Errorf("%d address records: this case needs some but not all to fit in 512 bytes", glue)
	case size > 512:
		t.Errorf("%d bytes", size)
	case 512-size >= 16:
		t.Errorf("%d bytes left, room for another address record", 512-size)
	}
}

func TestTruncateAddressAnswers(t *testing.T) {
	src := staticSource{}
	src.addService("big", 60, "10.1.0.1")
	s := newServer(t, src, nil)
	for _, bufsize := range []uint16{0, 100, 512} {
		resp := s.Resolve(question("big.service.nacos.", dns.TypeA, bufsize), false)
		size := len(pack(t, resp))
		if !resp.Truncated || size > 512 || 512-size >= 16 || len(resp.Answer) == 0 {
			t.Errorf("bufsize %d: tc=%v %d bytes %d answers", bufsize, resp.Truncated, size, len(resp.Answer))
		}
	}
	if resp := s.Resolve(question("big.service.nacos.", dns.TypeA, 1232), false); resp.Truncated || len(resp.Answer) != 60 {
		t.Errorf("bufsize 1232: tc=%v %d answers", resp.Truncated, len(resp.Answer))
	}
}

// TestTruncateTCPLimit fills TCP replies, where targets beyond the reach
// of compression pointers make their address records longer.
func TestTruncateTCPLimit(t *testing.T) {
	src := staticSource{}
	src.addService("many", 1500, "10.1.0.1")
	src.addService("huge", 2000, "10.1.0.1")
	s := newServer(t, src, nil)

	// 1500 SRV records fit in 64 KiB, their address records do not all.
	resp := s.Resolve(question("_many._tcp.service.nacos.", dns.TypeSRV, 0), true)
	size := len(pack(t, resp))
	farGlue := ptrLen + rrFixedLen + 4 + 1 + 8
	if resp.Truncated || len(resp.Answer) != 1500 || len(resp.Extra) >= 1500 || size > 65535 || 65535-size >= farGlue {
		t.Errorf("1500: tc=%v %d bytes %d SRV %d glue", resp.Truncated, size, len(resp.Answer), len(resp.Extra))
	}

	// 2000 SRV records do not fit: pairs, TC set.
	resp = s.Resolve(question("_huge._tcp.service.nacos.", dns.TypeSRV, 0), true)
	size = len(pack(t, resp))
	if !resp.Truncated || size > 65535 || 65535-size >= pairLen(resp, true) || len(resp.Extra) != len(resp.Answer) {
		t.Errorf("2000: tc=%v %d bytes %d SRV %d glue", resp.Truncated, size, len(resp.Answer), len(resp.Extra))
	}
	checkGlue(t, resp)
}

// TestFitIsExact checks the size arithmetic against packing, over many
// answer sizes and limits: never over the limit, and never leaving room
// for the next record.
func TestFitIsExact(t *testing.T) {
	src := staticSource{}
	for n := 1; n <= 70; n += 3 {
		src.addService(fmt.Sprintf("s%d", n), n, "10.1.0.1")
		src.addService(fmt.Sprintf("v%d", n), n, "2001:db8::1")
	}
	s := newServer(t, src, nil)
	for n := 1; n <= 70; n += 3 {
		for _, prefix := range []string{"s", "v"} {
			for _, bufsize := range []uint16{0, 700, 1232} {
				for _, name := range []string{fmt.Sprintf("_%s%d._tcp.service.nacos.", prefix, n), fmt.Sprintf("%s%d.service.nacos.", prefix, n)} {
					resp, limit := s.resolve(question(name, dns.TypeSRV, bufsize), false, netip.Addr{})
					size := len(pack(t, resp))
					srvs, glue := len(resp.Answer), 0
					for _, rr := range resp.Extra {
						if rr.Header().Rrtype != dns.TypeOPT {
							glue++
						}
					}
					pair := pairLen(resp, false)
					switch {
					case size > limit:
						t.Errorf("%s bufsize %d: %d bytes over %d", name, bufsize, size, limit)
					case resp.Truncated && (limit-size >= pair || glue != srvs):
						t.Errorf("%s bufsize %d: truncated at %d/%d bytes with %d SRV, %d glue", name, bufsize, size, limit, srvs, glue)
					case !resp.Truncated && srvs != n:
						t.Errorf("%s bufsize %d: %d of %d SRV without TC", name, bufsize, srvs, n)
					case !resp.Truncated && glue < srvs && limit-size >= pair-(answerOverhead+srvFixedRdata+nameLen(resp.Answer[0].(*dns.SRV).Target)):
						t.Errorf("%s bufsize %d: %d glue of %d with %d bytes left", name, bufsize, glue, srvs, limit-size)
					}
				}
			}
		}
	}
}
