package dnsfront

import (
	"math/rand/v2"
	"strings"

	"github.com/miekg/dns"
)

// Wire sizes used to fit answers without packing them. Answer records are
// owned by the query name, which miekg/dns compresses to a pointer at the
// question; an address record in Additional is owned by an SRV target, which
// is written in full (RFC 2782 forbids compressing it) and so can be pointed
// at, unless it starts beyond the reach of compression pointers.
const (
	headerLen      = 12
	questionFixed  = 4  // type and class
	ptrLen         = 2  // a compression pointer
	rrFixedLen     = 10 // type, class, TTL, RDLENGTH
	srvFixedRdata  = 6  // priority, weight, port
	pointerReach   = 1 << 14
	answerOverhead = ptrLen + rrFixedLen
)

// nameLen is the wire length of a fully qualified presentation-format name.
func nameLen(s string) int {
	if s == "." {
		return 1
	}
	n := len(s) + 1
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			n, i = n-3, i+3
		} else {
			n, i = n-1, i+1
		}
	}
	return n
}

// answerLen is the wire size of an answer record owned by the query name.
func answerLen(h *dns.RR_Header) int { return answerOverhead + int(h.Rdlength) }

func shuffle[T any](s []T) {
	for i := len(s) - 1; i > 0; i-- {
		j := rand.IntN(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}

// arrangement is a chosen record order: the records shuffled by a seeded
// generator, then rotated by rot places. Wire answers are prepared with
// several rotations of one shuffle, so that each record comes first
// equally often.
type arrangement struct {
	seed uint64
	rot  int
}

// arrange puts s in the order a describes, or a random one when a is nil.
func arrange[T any](s []T, a *arrangement) {
	if a == nil {
		shuffle(s)
		return
	}
	r := rand.New(rand.NewPCG(a.seed, a.seed^0x9e3779b97f4a7c15))
	for i := len(s) - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		s[i], s[j] = s[j], s[i]
	}
	if n := len(s); n > 1 {
		k := a.rot % n
		rotated := make([]T, n)
		copy(rotated, s[k:])
		copy(rotated[n-k:], s[:k])
		copy(s, rotated)
	}
}

// fill puts copies of the templates into the answer in random order (or
// the given one), owned by qname, as many as fit in budget bytes. It
// reports whether any were left out.
func fill[T any, P interface {
	*T
	dns.RR
}](m *dns.Msg, qname string, tmpl []T, budget int, order *arrangement) (truncated bool) {
	recs := make([]T, len(tmpl))
	copy(recs, tmpl)
	arrange(recs, order)
	ans := make([]dns.RR, 0, len(recs))
	for i := range recs {
		rr := P(&recs[i])
		h := rr.Header()
		if budget -= answerLen(h); budget < 0 {
			truncated = true
			break
		}
		h.Name = qname
		ans = append(ans, rr)
	}
	m.Answer = ans
	return truncated
}

// fillSRV puts the SRV records into the answer in random order (or the
// given one), owned by qname, with the address records of their targets in
// Additional, before whatever Additional already holds. offset is where the answer section
// starts in the reply and budget the bytes left for answer and glue.
//
// When every SRV record fits, address records are added while they fit;
// leaving some out does not truncate the reply (RFC 2181 §9). Otherwise SRV
// records are kept together with their address records, as many pairs as
// fit, and the reply is truncated: a client that uses a truncated answer
// still gets an address for every target it sees.
func fillSRV(m *dns.Msg, qname string, set *rrsets, offset, budget int, order *arrangement) (truncated bool) {
	items := make([]srvRecord, len(set.srv))
	copy(items, set.srv)
	arrange(items, order)
	total := 0
	for i := range items {
		total += answerLen(&items[i].rr.Hdr)
	}
	var seen glueSet
	if set.glues < len(set.srv) {
		seen = make(glueSet, (set.glues+63)/64)
	}
	glue := make([]dns.RR, 0, min(len(items), set.glues)+len(m.Extra))
	keep := len(items)
	if total <= budget {
		budget -= total
		for i := range items {
			it := &items[i]
			targetOff := offset + answerOverhead + srvFixedRdata
			offset += answerLen(&it.rr.Hdr)
			if seen.has(it.glueID) {
				continue
			}
			if budget -= glueLen(it, targetOff); budget < 0 {
				break
			}
			seen.add(it.glueID)
			glue = append(glue, it.glue)
		}
	} else {
		for i := range items {
			it := &items[i]
			n := answerLen(&it.rr.Hdr)
			newGlue := !seen.has(it.glueID)
			if newGlue {
				n += glueLen(it, offset+answerOverhead+srvFixedRdata)
			}
			if budget -= n; budget < 0 {
				keep, truncated = i, true
				break
			}
			if newGlue {
				seen.add(it.glueID)
				glue = append(glue, it.glue)
			}
			offset += answerLen(&it.rr.Hdr)
		}
	}
	ans := make([]dns.RR, keep)
	for i := range ans {
		items[i].rr.Hdr.Name = qname
		ans[i] = &items[i].rr
	}
	m.Answer = ans
	m.Extra = append(glue, m.Extra...)
	return truncated
}

// glueLen is the wire size of the address record of an SRV target written
// at targetOff: its owner is a pointer to the target, or, beyond pointer
// reach, the target's first label and a pointer to the rest.
func glueLen(it *srvRecord, targetOff int) int {
	owner := ptrLen
	if targetOff >= pointerReach {
		owner = 1 + strings.IndexByte(it.rr.Target, '.') + ptrLen
	}
	return owner + rrFixedLen + int(it.glue.Header().Rdlength)
}

// glueSet is a set of glue ids; a nil set is for answers where no two SRV
// records share a target, so it never needs to remember anything.
type glueSet []uint64

func (g glueSet) has(id int) bool { return g != nil && g[id/64]&(1<<(id%64)) != 0 }

func (g glueSet) add(id int) {
	if g != nil {
		g[id/64] |= 1 << (id % 64)
	}
}
