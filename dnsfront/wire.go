package dnsfront

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"runtime/debug"

	"github.com/miekg/dns"
	"github.com/sirupsen/logrus"
)

// The wire path answers the common UDP query straight from bytes: the
// header and the single question are read in place, the reply is a copy
// of a message packed in advance (wirecache.go) with the query's ID, RD
// and CD bits, RA for this client and the question bytes as asked, so the
// case of the name is echoed exactly. Anything it does not recognise
// takes the full path (ServeDNS), which gives the same answers.

// Header bits, in the third and fourth bytes of a message.
const (
	bitQR     = 0x80 // byte 2
	maskOp    = 0x78 // byte 2: opcode
	bitTC     = 0x02 // byte 2
	bitRD     = 0x01 // byte 2
	bitRA     = 0x80 // byte 3
	bitCD     = 0x10 // byte 3
	optRRLen  = 11   // root owner, type, class, TTL, RDLENGTH 0
	wireExtra = 5    // qtype, size limit and EDNS flags after the name in a key
	// wireKeyMax is the longest cache key: a name of at most 255 bytes
	// and the extra bytes.
	wireKeyMax = 255 + wireExtra
)

// wireQuery is a query the wire path may answer.
type wireQuery struct {
	qEnd  int // end of the question section
	qtype uint16
	edns  edns
	// key is the cache key: the name in wire form with ASCII letters
	// folded, the qtype, the reply size limit and the EDNS flags.
	key []byte
}

// parseWireQuery reads a query of the one shape the wire path answers: QR
// 0, opcode QUERY, one question and nothing else but at most one OPT
// record of version 0 whose options the full path ignores too, ending the
// packet; a name of plain labels (letters, digits, '-', '_') without
// compression; class IN or ANY. kb holds the key. ok is false for anything
// else.
func parseWireQuery(pkt []byte, maxUDP int, kb *[wireKeyMax]byte) (q wireQuery, ok bool) {
	if len(pkt) < headerLen+1+questionFixed || pkt[2]&(bitQR|maskOp) != 0 {
		return q, false
	}
	be := binary.BigEndian
	if be.Uint16(pkt[4:]) != 1 || be.Uint16(pkt[6:]) != 0 || be.Uint16(pkt[8:]) != 0 {
		return q, false
	}
	ar := be.Uint16(pkt[10:])
	if ar > 1 {
		return q, false
	}
	off, k := headerLen, 0
	for {
		if off >= len(pkt) {
			return q, false
		}
		l := int(pkt[off])
		if l == 0 {
			break
		}
		if l > 63 || off+1+l >= len(pkt) || k+1+l >= 255 {
			return q, false
		}
		kb[k] = byte(l)
		k++
		for _, c := range pkt[off+1 : off+1+l] {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			default:
				return q, false
			}
			kb[k] = c
			k++
		}
		off += 1 + l
	}
	if k == 0 {
		return q, false // the root
	}
	kb[k] = 0
	k++
	off++
	if off+questionFixed > len(pkt) {
		return q, false
	}
	q.qtype = be.Uint16(pkt[off:])
	if c := be.Uint16(pkt[off+2:]); c != dns.ClassINET && c != dns.ClassANY {
		return q, false
	}
	off += questionFixed
	q.qEnd = off
	if ar == 1 {
		if len(pkt) < off+optRRLen || pkt[off] != 0 || be.Uint16(pkt[off+1:]) != dns.TypeOPT ||
			pkt[off+6] != 0 || len(pkt) != off+optRRLen+int(be.Uint16(pkt[off+9:])) ||
			!ignoredOptions(pkt[off+optRRLen:]) {
			return q, false
		}
		q.edns = edns{present: true, size: be.Uint16(pkt[off+3:]), do: pkt[off+7]&0x80 != 0}
	} else if len(pkt) != off {
		return q, false
	}
	limit := q.edns.limit(false, maxUDP)
	be.PutUint16(kb[k:], q.qtype)
	be.PutUint16(kb[k+2:], uint16(limit))
	var flags byte
	if q.edns.present {
		flags |= 1
	}
	if q.edns.do {
		flags |= 2
	}
	kb[k+4] = flags
	q.key = kb[:k+wireExtra]
	return q, true
}

// wireOutcome is what the wire path did with a packet.
type wireOutcome uint8

const (
	wirePass  wireOutcome = iota // not answered here: take the full path
	wireReply                    // the reply is ready
	wireDrop                     // dropped by the rate limit
)

// answerWire answers a UDP query from client in wire form, writing the
// reply into out's storage. It counts the reply and applies the rate
// limit; wirePass leaves both to the full path. It never panics.
func (s *Server) answerWire(pkt []byte, client netip.Addr, out []byte) (reply []byte, res wireOutcome) {
	defer func() {
		if v := recover(); v != nil {
			s.log.WithFields(logrus.Fields{"panic": v, "stack": string(debug.Stack())}).Error("dns wire path panicked")
			reply, res = nil, wirePass
		}
	}()
	if s.log.Logger.IsLevelEnabled(logrus.DebugLevel) {
		return nil, wirePass // the full path logs every query
	}
	var kb [wireKeyMax]byte
	q, ok := parseWireQuery(pkt, s.cfg.MaxUDPSize, &kb)
	if !ok {
		return nil, wirePass
	}
	ws := s.wire.get(q.key)
	if ws == nil || !s.wireCurrent(ws) {
		ws = s.prepareWire(pkt, q)
	}
	if ws.variants == nil {
		return nil, wirePass
	}
	verdict := s.rrl.decide(client)
	if verdict == dropAnswer {
		return nil, wireDrop
	}
	v := ws.variants[0]
	if len(ws.variants) > 1 {
		v = ws.variants[rand.IntN(len(ws.variants))]
	}
	out = append(out[:0], v...)
	if verdict == slipAnswer {
		// As slip: no records but the OPT, TC set.
		out = out[:q.qEnd]
		out[2] |= bitTC
		clear(out[6:12])
		if q.edns.present {
			out[11] = 1
			out = append(out, v[len(v)-optRRLen:]...)
		}
	}
	out[0], out[1] = pkt[0], pkt[1]
	out[2] = out[2]&^bitRD | pkt[2]&bitRD
	var ra byte
	if s.fwd != nil && s.acl.allows(client) {
		ra = bitRA
	}
	out[3] = out[3]&^(bitRA|bitCD) | ra | pkt[3]&bitCD
	copy(out[headerLen:q.qEnd], pkt[headerLen:q.qEnd])
	s.stats.add(typeSlot(q.qtype), dns.RcodeSuccess, false, out[2]&bitTC != 0)
	return out, wireReply
}

// ignoredOptions reports whether b, the RDATA of an OPT record, is a
// well-formed list of options that the full path reads without error and
// ignores: NSID (3), COOKIE (10, sent by BIND and others) and PADDING (12).
// Other options, ECS among them, are left to the full path, which
// checks them.
func ignoredOptions(b []byte) bool {
	for len(b) > 0 {
		if len(b) < 4 {
			return false
		}
		code, n := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if code != dns.EDNS0NSID && code != dns.EDNS0COOKIE && code != dns.EDNS0PADDING || 4+n > len(b) {
			return false
		}
		b = b[4+n:]
	}
	return true
}
