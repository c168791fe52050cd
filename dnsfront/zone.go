package dnsfront

import (
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// SOA timers. Nothing transfers this zone, so they only need to be sane.
const (
	soaRefresh = 3600
	soaRetry   = 600
	soaExpire  = 86400
)

// zone is the served zone: its names and its apex records. The SOA serial
// moves on every data change; a change only moves the number, and the SOA
// record is built again on the first answer that carries it (negative
// answers and the apex), once per serial.
type zone struct {
	name   string   // normalised, e.g. "nacos."
	labels []string // name's labels, lowercase
	host   string   // "ns." + name
	ttl    uint32
	negTTL uint32

	// ns is NS ns.<zone>; nsHost the A or AAAA of ns.<zone>, nil when the
	// address is not known. Shared by every reply and never modified;
	// their capacity equals their length, so appending to them copies.
	ns     []dns.RR
	nsHost []dns.RR

	serial atomic.Uint32
	soa    atomic.Pointer[soaRecord] // built for some serial, maybe an older one
}

// soaRecord is the SOA for one serial, as a reply's Answer or Ns section
// (shared, never modified, capacity equal to length).
type soaRecord struct {
	serial uint32
	rrs    []dns.RR
}

// newZone builds the zone. addrHost is the host part of the listen
// address; when it is a specific IP it becomes the address of ns.<zone>.
func newZone(name string, ttl, negTTL time.Duration, addrHost string, now time.Time) *zone {
	z := &zone{
		name:   name,
		labels: strings.Split(strings.TrimSuffix(name, "."), "."),
		host:   kwNS + "." + name,
		ttl:    seconds(ttl),
		negTTL: seconds(negTTL),
	}
	z.ns = []dns.RR{&dns.NS{Hdr: dns.RR_Header{Name: z.name, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: z.ttl}, Ns: z.host}}
	if ip, err := netip.ParseAddr(addrHost); err == nil && !ip.IsUnspecified() && ip.Zone() == "" {
		z.nsHost = []dns.RR{recordBuilder{ttl: z.ttl}.addrRR(z.host, ip.Unmap())}
	}
	z.serial.Store(uint32(now.Unix()))
	return z
}

func seconds(d time.Duration) uint32 { return uint32(d / time.Second) }

// bump moves the SOA serial forward: to the current Unix time, or by one
// when that would not move it (serial arithmetic, RFC 1982). It does not
// allocate.
func (z *zone) bump(now time.Time) {
	next := uint32(now.Unix())
	for {
		cur := z.serial.Load()
		n := next
		if int32(n-cur) <= 0 {
			n = cur + 1
		}
		if z.serial.CompareAndSwap(cur, n) {
			return
		}
	}
}

// soaRRs returns the SOA of the current serial.
func (z *zone) soaRRs() []dns.RR {
	serial := z.serial.Load()
	if r := z.soa.Load(); r != nil && r.serial == serial {
		return r.rrs
	}
	r := &soaRecord{serial: serial, rrs: []dns.RR{&dns.SOA{
		Hdr:     dns.RR_Header{Name: z.name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: z.negTTL},
		Ns:      z.host,
		Mbox:    "hostmaster." + z.name,
		Serial:  serial,
		Refresh: soaRefresh,
		Retry:   soaRetry,
		Expire:  soaExpire,
		Minttl:  z.negTTL,
	}}}
	// Another answer may have stored a newer serial meanwhile; keep the
	// newest, so that the record is built once per serial.
	for {
		old := z.soa.Load()
		if old != nil && int32(old.serial-serial) >= 0 {
			return r.rrs
		}
		if z.soa.CompareAndSwap(old, r) {
			return r.rrs
		}
	}
}
