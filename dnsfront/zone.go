package dnsfront

import (
	"net/netip"
	"strings"
	"sync"
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

// apexRecords are the records of the zone apex for one SOA serial. The
// slices are shared by every reply and never modified; their capacity
// equals their length, so appending to them copies.
type apexRecords struct {
	serial uint32
	soa    []dns.RR // the SOA, for answers and for negative replies
	ns     []dns.RR // NS ns.<zone>
	host   []dns.RR // A or AAAA of ns.<zone>; nil when the address is not known
}

// zone is the served zone: its names and its apex records, whose SOA serial
// moves on every data change.
type zone struct {
	name   string   // normalised, e.g. "nacos."
	labels []string // name's labels, lowercase
	host   string   // "ns." + name
	ttl    uint32
	negTTL uint32
	hostRR dns.RR

	mu  sync.Mutex // serialises bump
	cur atomic.Pointer[apexRecords]
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
	if ip, err := netip.ParseAddr(addrHost); err == nil && !ip.IsUnspecified() && ip.Zone() == "" {
		z.hostRR = recordBuilder{ttl: z.ttl}.addrRR(z.host, ip.Unmap())
	}
	z.publish(uint32(now.Unix()))
	return z
}

func seconds(d time.Duration) uint32 { return uint32(d / time.Second) }

// apex returns the current apex records.
func (z *zone) apex() *apexRecords { return z.cur.Load() }

// bump moves the SOA serial forward: to the current Unix time, or by one
// when that would not move it.
func (z *zone) bump(now time.Time) {
	z.mu.Lock()
	defer z.mu.Unlock()
	next := uint32(now.Unix())
	if cur := z.cur.Load().serial; int32(next-cur) <= 0 {
		next = cur + 1
	}
	z.publish(next)
}

func (z *zone) publish(serial uint32) {
	soa := &dns.SOA{
		Hdr:     dns.RR_Header{Name: z.name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: z.negTTL},
		Ns:      z.host,
		Mbox:    "hostmaster." + z.name,
		Serial:  serial,
		Refresh: soaRefresh,
		Retry:   soaRetry,
		Expire:  soaExpire,
		Minttl:  z.negTTL,
	}
	ns := &dns.NS{Hdr: dns.RR_Header{Name: z.name, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: z.ttl}, Ns: z.host}
	a := &apexRecords{serial: serial, soa: []dns.RR{soa}, ns: []dns.RR{ns}}
	if z.hostRR != nil {
		a.host = []dns.RR{z.hostRR}
	}
	z.cur.Store(a)
}
