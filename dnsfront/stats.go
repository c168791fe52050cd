package dnsfront

import (
	"net"
	"strconv"
	"sync/atomic"

	"github.com/miekg/dns"
)

// qtypes are the query types counted by name; others count as "other", a
// query without a question as "none".
var qtypes = [...]uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypeTXT, dns.TypeANY,
	dns.TypeSOA, dns.TypeNS, dns.TypePTR, dns.TypeCNAME, dns.TypeMX, dns.TypeAXFR, dns.TypeIXFR}

const (
	slotOther = len(qtypes)
	slotNone  = len(qtypes) + 1
	nQtype    = len(qtypes) + 2
	// nRcode holds every rcode up to BADVERS (16), plus one slot for
	// anything else.
	nRcode = dns.RcodeBadVers + 2
)

// queryStats counts answered queries in fixed arrays of atomics: counting
// costs one atomic add and never allocates.
type queryStats struct {
	n         [nQtype][nRcode]atomic.Uint64
	tcp       atomic.Uint64
	truncated atomic.Uint64
}

func qtypeSlot(req *dns.Msg) int {
	if req == nil || len(req.Question) == 0 {
		return slotNone
	}
	return typeSlot(req.Question[0].Qtype)
}

func typeSlot(t uint16) int {
	for i, q := range qtypes {
		if q == t {
			return i
		}
	}
	return slotOther
}

func rcodeSlot(rc int) int {
	if rc < 0 || rc >= nRcode-1 {
		return nRcode - 1
	}
	return rc
}

// count records one reply sent.
func (q *queryStats) count(req *dns.Msg, rcode int, tcp, truncated bool) {
	q.add(qtypeSlot(req), rcode, tcp, truncated)
}

// add records one reply to a query whose type has the given slot.
func (q *queryStats) add(slot, rcode int, tcp, truncated bool) {
	q.n[slot][rcodeSlot(rcode)].Add(1)
	if tcp {
		q.tcp.Add(1)
	}
	if truncated {
		q.truncated.Add(1)
	}
}

func isTCP(w dns.ResponseWriter) bool {
	_, tcp := w.LocalAddr().(*net.TCPAddr)
	return tcp
}

// QueryCount is the number of replies sent for one query type and rcode.
type QueryCount struct {
	// Type is the query type ("A", "SRV", ...), "other" for a type not
	// counted by name, "none" for a query without a question.
	Type string
	// Rcode is the reply's rcode ("NOERROR", "NXDOMAIN", ...), "other"
	// for an rcode beyond BADVERS.
	Rcode string
	Count uint64
}

// Stats are the DNS front's counters since it was built.
type Stats struct {
	// Queries holds the non-zero counts by query type and rcode.
	Queries []QueryCount
	// TCP counts the replies sent over TCP; Truncated those with TC set.
	TCP, Truncated uint64
}

// Total sums the replies of every type and rcode.
func (s Stats) Total() uint64 {
	var n uint64
	for _, q := range s.Queries {
		n += q.Count
	}
	return n
}

// Stats returns the counters; it allocates only for the non-zero counts.
func (s *Server) Stats() Stats {
	st := Stats{TCP: s.stats.tcp.Load(), Truncated: s.stats.truncated.Load()}
	for t := range s.stats.n {
		for rc := range s.stats.n[t] {
			n := s.stats.n[t][rc].Load()
			if n == 0 {
				continue
			}
			st.Queries = append(st.Queries, QueryCount{Type: qtypeName(t), Rcode: rcodeName(rc), Count: n})
		}
	}
	return st
}

func qtypeName(slot int) string {
	switch slot {
	case slotOther:
		return "other"
	case slotNone:
		return "none"
	}
	return dns.TypeToString[qtypes[slot]]
}

func rcodeName(slot int) string {
	if slot == nRcode-1 {
		return "other"
	}
	if slot == dns.RcodeBadVers {
		return "BADVERS"
	}
	if name, ok := dns.RcodeToString[slot]; ok {
		return name
	}
	return strconv.Itoa(slot)
}
