package dnsfront

import (
	"math/rand/v2"
	"net/netip"
	"sync"

	"github.com/miekg/dns"
)

// Wire answers are prepared on the first query for a (name, type, size
// limit, EDNS flags) and kept until the service changes. Only answers that
// do not depend on the case of the name are kept: positive, untruncated
// answers for a service whose folded key has one spelling (and, for a
// cluster pair, whose clusters differ in more than case). Each is packed
// in several orders, rotations of one shuffle, so that every record comes
// first equally often; a query gets one of them at random. A query that
// cannot be answered this way leaves a marker, so the next one goes
// straight to the full path. A marker lasts as long as what made it holds,
// not until the next change anywhere: for a name that is no service name
// (the apex, ns.<zone>, address names), for good; for a service name,
// until that service changes; for a name no service has, until a service
// is added or removed. A marker keeps no answer, only the way to the full
// path: negative answers and the apex carry the SOA, whose serial moves
// with every change, so they are built by the full path each time and
// always carry the current serial.
const (
	// maxWireVariants bounds the orders kept for one answer.
	maxWireVariants = 8
	// wireCacheBytes and wireCacheNames bound the cache; when it is full
	// it starts again from empty.
	wireCacheBytes = 32 << 20
	wireCacheNames = 1 << 17
	// wireMarkerSize is what a marker is counted as.
	wireMarkerSize = 64
)

// wireSet is the prepared answer to one cache key.
type wireSet struct {
	// variants are the packed replies, ID 0; nil for a marker.
	variants [][]byte
	// owner and gen: the entry the answer (or the marker) comes from, and
	// its wire generation then; it is current while they match.
	owner *entry
	gen   uint64
	// For a marker without an owner: static, the name is no service name,
	// so the marker is current for good; else keys is the index's key
	// generation when no service had the name, and the marker is current
	// while no service has been added or removed since.
	static bool
	keys   uint64
	size   int
}

// wireCache maps keys to prepared answers.
type wireCache struct {
	mu    sync.RWMutex
	m     map[string]*wireSet
	bytes int
}

func (c *wireCache) get(key []byte) *wireSet {
	c.mu.RLock()
	ws := c.m[string(key)]
	c.mu.RUnlock()
	return ws
}

func (c *wireCache) put(key []byte, ws *wireSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[string(key)]; old != nil {
		c.bytes -= old.size
	}
	if c.m == nil || c.bytes+ws.size > wireCacheBytes || len(c.m) >= wireCacheNames {
		c.m, c.bytes = map[string]*wireSet{}, 0
	}
	c.m[string(key)] = ws
	c.bytes += ws.size
}

// len returns the number of keys held.
func (c *wireCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// wireCurrent reports whether a prepared answer may still be served.
func (s *Server) wireCurrent(ws *wireSet) bool {
	switch {
	case ws.variants != nil:
		return liveWire(ws.gen) && ws.owner.wire.Load() == ws.gen
	case ws.static:
		return true
	case ws.owner != nil:
		// A marker of an entry already replaced (dead) is never current:
		// the entry no longer changes, so its generation would match for
		// ever while a newer entry serves the name.
		return ws.gen != deadWire && ws.owner.wire.Load() == ws.gen
	}
	return ws.keys == s.idx.keys.Load()
}

// prepareWire prepares and stores the answer to q, or a marker when it
// cannot be prepared.
func (s *Server) prepareWire(pkt []byte, q wireQuery) *wireSet {
	ws := s.buildWire(pkt)
	if ws.variants == nil {
		ws.size = len(q.key) + wireMarkerSize
	}
	s.wire.put(q.key, ws)
	return ws
}

// buildWire packs the answer to the query in pkt in several orders, or
// returns a marker (no variants) when the answer is not one that may be
// kept. It never calls OnMiss: a service the source does not hold has
// nothing to keep.
func (s *Server) buildWire(pkt []byte) *wireSet {
	keys := s.idx.keys.Load() // before the lookup: a service added after it moves keys
	absent := &wireSet{keys: keys}
	var req dns.Msg
	if req.Unpack(pkt) != nil || len(req.Question) != 1 {
		return absent
	}
	p := parseName(req.Question[0].Name, s.zone.labels)
	if p.kind != nameService && p.kind != nameSRV {
		return &wireSet{static: true}
	}
	e := s.idx.lookup(serviceKey(p))
	if e == nil {
		return absent
	}
	gen := e.wire.Load()
	marker := &wireSet{owner: e, gen: gen}
	if !liveWire(gen) {
		return marker
	}
	if p.cluster != "" {
		e.records(p.cluster)
		if !e.clusterCaseUnique() {
			return marker
		}
	}
	req.Id, req.RecursionDesired, req.CheckingDisabled = 0, false, false
	seed := rand.Uint64()
	ws := &wireSet{owner: e, gen: gen}
	for i, n, records := 0, 1, 0; i < n; i++ {
		rot := 0
		if i > 0 {
			rot = i * records / n
		}
		m, limit := s.resolveWith(&req, false, netip.Addr{}, resolveMode{order: &arrangement{seed: seed, rot: rot}})
		if m == nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) == 0 || m.Truncated {
			return marker
		}
		if i == 0 {
			records = len(m.Answer)
			n = min(records, maxWireVariants)
		}
		b, err := m.Pack()
		if err != nil || len(b) > limit {
			return marker
		}
		ws.variants = append(ws.variants, b)
		ws.size += len(b)
	}
	return ws
}
