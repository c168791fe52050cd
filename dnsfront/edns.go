package dnsfront

import "github.com/miekg/dns"

// edns is what a query's OPT record asks for (RFC 6891).
type edns struct {
	present bool
	version uint8
	do      bool
	size    uint16 // the requester's UDP payload size
}

// readEDNS reads the query's OPT record. ok is false when the query has
// more than one, which is a format error.
func readEDNS(req *dns.Msg) (e edns, ok bool) {
	for _, rr := range req.Extra {
		opt, isOPT := rr.(*dns.OPT)
		if !isOPT {
			continue
		}
		if e.present {
			return edns{}, false
		}
		e = edns{present: true, version: opt.Version(), do: opt.Do(), size: opt.UDPSize()}
	}
	return e, true
}

// limit is the largest reply the requester may get: 65535 bytes over TCP;
// over UDP its EDNS size (at least 512) capped at maxUDP, or 512 without
// EDNS.
func (e edns) limit(tcp bool, maxUDP int) int {
	switch {
	case tcp:
		return maxMsgSize
	case !e.present:
		return minUDPSize
	}
	return min(max(int(e.size), minUDPSize), maxUDP)
}

// optLen is the wire size of the OPT record the server sends: root owner,
// type, class, TTL and an empty RDATA.
const optLen = 1 + 10

// setOPT fills in the reply's OPT record: version 0, the server's UDP size,
// the DO bit copied (RFC 3225), no options and no other flags. The
// extended RCODE is set when the reply is packed.
func setOPT(opt *dns.OPT, e edns, maxUDP int) {
	*opt = dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: uint16(maxUDP)}}
	if e.do {
		opt.SetDo()
	}
}
