package dnsfront

import (
	"math"
	"net/netip"
	"sort"
	"strings"

	"github.com/miekg/dns"

	"sextant/naming"
)

// rrsets holds the records prepared for one selection of a service's
// instances, in catalog order. Answer records have no owner name yet: the
// answer path copies them and sets the query's name. Every record's
// Hdr.Rdlength holds its RDATA length on the wire, which the answer path
// uses to fit answers into the reply. Nothing here changes once built.
type rrsets struct {
	a    []dns.A
	aaaa []dns.AAAA
	txt  []dns.TXT
	srv  []srvRecord
	// glues counts the distinct addresses among srv targets.
	glues int
}

// srvRecord is one SRV record with the address record of its target.
type srvRecord struct {
	rr dns.SRV
	// glue is the A or AAAA record owned by rr.Target, shared by every
	// query and by every SRV record with the same target.
	glue   dns.RR
	glueID int
}

// recordBuilder turns instances into records for one zone and TTL.
type recordBuilder struct {
	zone string // normalised, e.g. "nacos."
	ttl  uint32
}

// build prepares the records of the instances of svc that receive traffic
// in the given clusters (all when none): healthy, enabled and of positive
// weight; or, when the protect threshold is reached, every enabled instance
// of positive weight. Duplicates are dropped.
func (b recordBuilder) build(svc *naming.Service, clusters []string) *rrsets {
	sel := svc.Select(clusters, true)
	// Sized for the selection at once: growing them one doubling at a
	// time cost a large service about as much again in copies.
	n := len(sel.Instances)
	r := &rrsets{srv: make([]srvRecord, 0, n)}
	// addrs holds every address seen, with 1 + the index of its SRV
	// template in glues, or 0 while it has none (no valid port yet).
	addrs := make(map[netip.Addr]int, n)
	glues := make([]srvRecord, 0, n)
	seenTXT := map[string]bool{}
	srvAt := make(map[netip.AddrPort]int, n)
	weights := make([]float64, 0, n)
	maxWeight := 0.0
	for _, in := range sel.Instances {
		if !in.Enabled || in.Weight <= 0 || !(in.Healthy || sel.Protected) {
			continue
		}
		ip, ok := instanceAddr(in.IP)
		if !ok {
			continue
		}
		gi, seen := addrs[ip]
		if !seen {
			addrs[ip] = 0
			b.appendAddr(r, ip)
		}
		if txt, key := b.txt(in.Metadata); txt != nil && !seenTXT[key] {
			seenTXT[key] = true
			r.txt = append(r.txt, *txt)
		}
		if in.Port <= 0 || in.Port > 65535 {
			continue
		}
		maxWeight = math.Max(maxWeight, in.Weight)
		ap := netip.AddrPortFrom(ip, uint16(in.Port))
		if i, dup := srvAt[ap]; dup {
			weights[i] = math.Max(weights[i], in.Weight)
			continue
		}
		if gi == 0 {
			glues = append(glues, b.glue(ip, len(glues)))
			gi = len(glues)
			addrs[ip] = gi
		}
		g := glues[gi-1]
		g.rr.Port = uint16(in.Port)
		srvAt[ap] = len(r.srv)
		r.srv = append(r.srv, g)
		weights = append(weights, in.Weight)
	}
	for i := range r.srv {
		r.srv[i].rr.Weight = srvWeight(weights[i], maxWeight)
	}
	r.glues = len(glues)
	return r
}

// rfc8482 is the answer to ANY for a service name: one HINFO "RFC8482"
// (RFC 8482 §4.2).
func (b recordBuilder) rfc8482(name string) dns.RR {
	return &dns.HINFO{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: b.ttl}, Cpu: "RFC8482", Os: ""}
}

func (b recordBuilder) hdr(name string, t uint16, rdlen int) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: b.ttl, Rdlength: uint16(rdlen)}
}

func (b recordBuilder) appendAddr(r *rrsets, ip netip.Addr) {
	if ip.Is4() {
		r.a = append(r.a, dns.A{Hdr: b.hdr("", dns.TypeA, 4), A: ip.AsSlice()})
	} else {
		r.aaaa = append(r.aaaa, dns.AAAA{Hdr: b.hdr("", dns.TypeAAAA, 16), AAAA: ip.AsSlice()})
	}
}

// addrRR returns the A or AAAA record of ip owned by name.
func (b recordBuilder) addrRR(name string, ip netip.Addr) dns.RR {
	if ip.Is4() {
		return &dns.A{Hdr: b.hdr(name, dns.TypeA, 4), A: ip.AsSlice()}
	}
	return &dns.AAAA{Hdr: b.hdr(name, dns.TypeAAAA, 16), AAAA: ip.AsSlice()}
}

// glue returns an SRV record template for ip (port and weight unset) with
// the address record of its target.
func (b recordBuilder) glue(ip netip.Addr, id int) srvRecord {
	target := addrLabel(ip) + "." + kwAddr + "." + b.zone
	return srvRecord{
		rr: dns.SRV{
			Hdr:      b.hdr("", dns.TypeSRV, 6+len(target)+1),
			Priority: srvPriority,
			Target:   target,
		},
		glue:   b.addrRR(target, ip),
		glueID: id,
	}
}

// srvPriority is the priority of every SRV record: all instances are peers.
const srvPriority = 1

// srvWeight scales a Nacos weight so that the largest weight of the set
// becomes 65535; every positive weight stays at least 1.
func srvWeight(w, maxWeight float64) uint16 {
	if maxWeight <= 0 {
		return 1
	}
	v := math.Round(w / maxWeight * 65535)
	return uint16(math.Min(math.Max(v, 1), 65535))
}

// txt returns the TXT record of an instance's metadata, one "key=value"
// string per entry sorted by key, and a key identifying its content. Entries
// longer than 255 bytes cannot be one TXT string and are left out; nil when
// nothing is left.
func (b recordBuilder) txt(md map[string]string) (*dns.TXT, string) {
	if len(md) == 0 {
		return nil, ""
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var strs []string
	rdlen := 0
	for _, k := range keys {
		kv := k + "=" + md[k]
		if len(kv) > 255 || rdlen+1+len(kv) > maxMsgSize-512 {
			continue
		}
		rdlen += 1 + len(kv)
		// miekg/dns reads backslashes in TXT strings as escapes.
		strs = append(strs, strings.ReplaceAll(kv, `\`, `\\`))
	}
	if len(strs) == 0 {
		return nil, ""
	}
	return &dns.TXT{Hdr: b.hdr("", dns.TypeTXT, rdlen), Txt: strs}, strings.Join(strs, "\x00")
}
