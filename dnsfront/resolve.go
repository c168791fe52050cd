package dnsfront

import (
	"net/netip"

	"github.com/miekg/dns"

	"sextant/naming"
)

// reply is a response with room for its OPT record and a one-record
// Additional section, so that most replies need one allocation for all
// three.
type reply struct {
	msg   dns.Msg
	opt   dns.OPT
	extra [1]dns.RR
}

// Resolve answers one query without a socket; tcp tells the transport it
// came over, which sets the size limit. It returns nil when nothing must be
// sent back (the message is itself a response). The reply shares records
// with the server's prepared data and its question with req; neither may
// be modified. Names outside the zone are forwarded when recursors are
// configured, which is the one case where Resolve waits on the network.
func (s *Server) Resolve(req *dns.Msg, tcp bool) *dns.Msg {
	resp, _ := s.resolve(req, tcp, netip.Addr{})
	return resp
}

// ResolveFrom is Resolve for a query from client: names outside the zone
// are forwarded only when Config.RecursionAllow covers the client.
func (s *Server) ResolveFrom(req *dns.Msg, tcp bool, client netip.Addr) *dns.Msg {
	resp, _ := s.resolve(req, tcp, client)
	return resp
}

// resolve is ResolveFrom that also returns the size limit of the reply. An
// invalid client address counts as allowed to recurse.
func (s *Server) resolve(req *dns.Msg, tcp bool, client netip.Addr) (*dns.Msg, int) {
	return s.resolveWith(req, tcp, client, resolveMode{onMiss: s.cfg.OnMiss})
}

// resolveMode tunes resolve for the preparation of wire answers: without
// the OnMiss hook, and with records in a chosen order.
type resolveMode struct {
	onMiss func(naming.ServiceKey) bool
	order  *arrangement // nil: shuffled
}

func (s *Server) resolveWith(req *dns.Msg, tcp bool, client netip.Addr, mode resolveMode) (*dns.Msg, int) {
	if req == nil || req.Response {
		return nil, 0
	}
	r := &reply{}
	m := &r.msg
	m.Id, m.Response, m.Opcode, m.Compress = req.Id, true, req.Opcode, true
	m.RecursionDesired, m.CheckingDisabled = req.RecursionDesired, req.CheckingDisabled
	recurse := s.fwd != nil && s.acl.allows(client)
	m.RecursionAvailable = recurse
	if len(req.Question) > 0 {
		m.Question = req.Question[:1:1]
	}
	e, ok := readEDNS(req)
	limit := e.limit(tcp, s.cfg.MaxUDPSize)
	if !ok {
		m.Rcode = dns.RcodeFormatError
		return m, limit
	}
	if e.present {
		setOPT(&r.opt, e, s.cfg.MaxUDPSize)
		r.extra[0] = &r.opt
		m.Extra = r.extra[:]
	}
	switch {
	case req.Opcode != dns.OpcodeQuery:
		m.Rcode = dns.RcodeNotImplemented
		return m, limit
	case len(req.Question) != 1:
		m.Rcode = dns.RcodeFormatError
		return m, limit
	case e.version > 0:
		m.Rcode = dns.RcodeBadVers
		return m, limit
	}
	q := req.Question[0]
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		m.Rcode = dns.RcodeRefused
		return m, limit
	}
	p := parseName(q.Name, s.zone.labels)
	switch {
	case p.kind == nameInvalid:
		m.Rcode = dns.RcodeFormatError
		return m, limit
	case p.kind == nameOutside && recurse:
		return s.forward(req, m, tcp, limit), limit
	case p.kind == nameOutside, q.Qtype == dns.TypeAXFR, q.Qtype == dns.TypeIXFR:
		m.Rcode = dns.RcodeRefused
		return m, limit
	}
	m.Authoritative = true
	budget := limit - headerLen - nameLen(q.Name) - questionFixed
	if e.present {
		budget -= optLen
	}
	s.answer(m, p, q, budget, mode)
	if len(m.Answer) == 0 && !m.Truncated {
		m.Ns = s.zone.soaRRs()
	}
	return m, limit
}

// answer fills in the reply to a query for a name under the zone. budget
// is the room left for answer and glue records. An empty answer means
// NODATA, unless the rcode says NXDOMAIN.
func (s *Server) answer(m *dns.Msg, p parsedName, q dns.Question, budget int, mode resolveMode) {
	z := s.zone
	switch p.kind {
	case nameMissing:
		m.Rcode = dns.RcodeNameError
	case nameApex:
		switch q.Qtype {
		case dns.TypeSOA, dns.TypeANY:
			m.Answer = z.soaRRs()
		case dns.TypeNS:
			m.Answer = z.ns
			m.Extra = append(z.nsHost, m.Extra...)
		}
	case nameHost:
		if len(z.nsHost) > 0 && (q.Qtype == z.nsHost[0].Header().Rrtype || q.Qtype == dns.TypeANY) {
			m.Answer = z.nsHost
		}
	case nameAddr:
		if t := addrType(p); q.Qtype == t || q.Qtype == dns.TypeANY {
			m.Answer = []dns.RR{s.build.addrRR(q.Name, p.addr)}
		}
	case nameService, nameSRV, nameServiceENT, nameSuffix:
		s.answerService(m, p, q, budget, mode)
	}
}

func addrType(p parsedName) uint16 {
	if p.addr.Is4() {
		return dns.TypeA
	}
	return dns.TypeAAAA
}

// answerService answers for the names of a service. A service that exists
// but has nothing of the asked type, or nothing that serves, gives NODATA.
func (s *Server) answerService(m *dns.Msg, p parsedName, q dns.Question, budget int, mode resolveMode) {
	key := serviceKey(p)
	if p.kind == nameSuffix {
		if !s.idx.isSuffix(key) {
			m.Rcode = dns.RcodeNameError
		}
		return
	}
	e := s.idx.lookup(key)
	if e == nil && mode.onMiss != nil && (p.kind == nameService || p.kind == nameSRV) && mode.onMiss(key) {
		e = s.idx.lookup(key)
	}
	switch {
	case e == nil && p.kind == nameService && s.idx.isSuffix(key):
		return
	case e == nil:
		m.Rcode = dns.RcodeNameError
		return
	case p.kind == nameServiceENT:
		return
	}
	set := e.records(p.cluster)
	if set == nil {
		return
	}
	qt := q.Qtype
	if qt == dns.TypeANY {
		// RFC 8482: a minimal answer, so that ANY amplifies nothing.
		m.Answer = []dns.RR{s.build.rfc8482(q.Name)}
		return
	}
	if p.kind == nameSRV {
		if qt != dns.TypeSRV {
			return
		}
	}
	switch qt {
	case dns.TypeA:
		m.Truncated = fill(m, q.Name, set.a, budget, mode.order)
	case dns.TypeAAAA:
		m.Truncated = fill(m, q.Name, set.aaaa, budget, mode.order)
	case dns.TypeTXT:
		m.Truncated = fill(m, q.Name, set.txt, budget, mode.order)
	case dns.TypeSRV:
		offset := headerLen + nameLen(q.Name) + questionFixed
		m.Truncated = fillSRV(m, q.Name, set, offset, budget, mode.order)
	}
}
