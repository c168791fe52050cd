package dnsfront

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Response-rate limiting blunts the use of the node as a DNS amplifier:
// UDP answers to one client network (a /24 for IPv4, a /56 for IPv6) are
// limited to a rate, with a token bucket of one second's worth. An answer
// over the limit is dropped or, every second time, sent truncated (TC=1,
// no records): a real client behind a spoofed flood retries over TCP,
// which is never limited, while the victim of the flood gets little. The
// table of networks is bounded; when full, an idle entry (or, failing
// that, an arbitrary one) makes room.
type rateLimiter struct {
	exempt recursionACL // clients never limited
	rate   float64      // tokens per second
	burst  float64
	now    func() time.Time
	seed   maphash.Seed
	shards [rrlShards]rrlShard
	perMax int

	dropped, slipped atomic.Uint64
}

const rrlShards = 64

type rrlShard struct {
	mu sync.Mutex
	m  map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   int64 // unix nanoseconds
	over   uint32
}

// verdict is what to do with one answer.
type verdict uint8

const (
	sendAnswer verdict = iota
	dropAnswer
	slipAnswer // send truncated
)

func newRateLimiter(perSecond, tableSize int, exempt recursionACL, now func() time.Time) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	r := &rateLimiter{exempt: exempt, rate: float64(perSecond), burst: float64(perSecond), now: now, seed: maphash.MakeSeed(),
		perMax: max(1, tableSize/rrlShards)}
	for i := range r.shards {
		r.shards[i].m = map[netip.Addr]*bucket{}
	}
	return r
}

// network is the client network an address counts against.
func network(a netip.Addr) netip.Addr {
	a = a.Unmap()
	bits := 56
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return a
	}
	return p.Addr()
}

// decide takes a token for client and says what to do with its answer.
func (r *rateLimiter) decide(client netip.Addr) verdict {
	if r == nil || !client.IsValid() || r.exempt.allows(client) {
		return sendAnswer
	}
	key := network(client)
	sh := &r.shards[maphash.Comparable(r.seed, key)%rrlShards]
	now := r.now().UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.m[key]
	if b == nil {
		if len(sh.m) >= r.perMax {
			sh.evict(now, r.burst/r.rate)
		}
		b = &bucket{tokens: r.burst, last: now}
		sh.m[key] = b
	}
	if el := float64(now-b.last) / 1e9; el > 0 {
		b.tokens = min(r.burst, b.tokens+el*r.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		b.over = 0
		return sendAnswer
	}
	b.over++
	if b.over%2 == 0 {
		r.slipped.Add(1)
		return slipAnswer
	}
	r.dropped.Add(1)
	return dropAnswer
}

// evict makes room in a full shard: first every bucket idle long enough
// to have refilled, else one arbitrary entry. The caller holds sh.mu.
func (sh *rrlShard) evict(now int64, refill float64) {
	idle := int64(refill * 1e9)
	n := len(sh.m)
	for k, b := range sh.m {
		if now-b.last >= idle {
			delete(sh.m, k)
		}
	}
	if len(sh.m) < n {
		return
	}
	for k := range sh.m {
		delete(sh.m, k)
		return
	}
}

// size returns the number of networks tracked.
func (r *rateLimiter) size() int {
	n := 0
	for i := range r.shards {
		r.shards[i].mu.Lock()
		n += len(r.shards[i].m)
		r.shards[i].mu.Unlock()
	}
	return n
}

// RateLimited returns how many UDP answers response-rate limiting dropped
// and how many it sent truncated instead.
func (s *Server) RateLimited() (dropped, truncated uint64) {
	if s.rrl == nil {
		return 0, 0
	}
	return s.rrl.dropped.Load(), s.rrl.slipped.Load()
}

// slip empties a reply and sets TC, so the client retries over TCP. The
// OPT record stays; shared records are not touched, only the slices.
func slip(m *dns.Msg) {
	m.Answer, m.Ns, m.Truncated = nil, nil, true
	var opt []dns.RR
	for _, rr := range m.Extra {
		if _, ok := rr.(*dns.OPT); ok {
			opt = append(opt, rr)
		}
	}
	m.Extra = opt
}
