package push

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"sextant/naming"
)

// Subscription is what one instance/list request with udpPort > 0 asks for.
type Subscription struct {
	Service  naming.ServiceKey
	Clusters string // the request's clusters string, echoed in pushes
	ClientIP string // the clientIP parameter
	SourceIP string // the HTTP request's source address
	UDPPort  int
	Agent    string // User-Agent, e.g. Nacos-Go-Client:v1.1.4
	App      string
}

// Subscriber is one registered push target.
type Subscriber struct {
	Service  naming.ServiceKey
	Clusters string
	Addr     netip.AddrPort
	Source   netip.Addr // of the request that subscribed
	Agent    string
	App      string
	LastSeen time.Time
}

// Errors of Subscribe.
var (
	ErrDisabled = errors.New("push is disabled")
	ErrFull     = errors.New("too many push subscribers")
)

// resolveTarget picks the address a subscription is pushed to: the
// request's source, or clientIP when the target is TargetClientIP and the
// source lies in a trusted network.
func resolveTarget(cfg Config, s Subscription) (target netip.AddrPort, source netip.Addr, err error) {
	if s.UDPPort <= 0 || s.UDPPort > 65535 {
		return target, source, fmt.Errorf("illegal udp port %d", s.UDPPort)
	}
	source, err = netip.ParseAddr(strings.TrimSpace(s.SourceIP))
	if err != nil {
		return target, source, fmt.Errorf("illegal source ip %q", s.SourceIP)
	}
	source = source.Unmap()
	ip := source
	if c := strings.TrimSpace(s.ClientIP); c != "" && cfg.Target == TargetClientIP && trusted(cfg.TrustedProxies, source) {
		a, err := netip.ParseAddr(c)
		if err != nil {
			return target, source, fmt.Errorf("illegal push target ip %q", c)
		}
		ip = a.Unmap()
	}
	return netip.AddrPortFrom(ip, uint16(s.UDPPort)), source, nil
}

func trusted(nets []netip.Prefix, ip netip.Addr) bool {
	for _, n := range nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// subKey identifies a subscription: one per service and address, whatever
// its clusters string, so an address cannot be subscribed to one service
// many times over.
type subKey struct {
	svc  naming.ServiceKey
	addr netip.AddrPort
}

// registry holds the subscribers, bounded in number. Methods take the time
// so the expiry rule can be tested without a clock.
type registry struct {
	mu   sync.RWMutex
	subs map[naming.ServiceKey]map[subKey]*Subscriber
	n    int
	max  int
	ttl  time.Duration
	// Subscriptions per target and per source IP, bounded by maxTarget and
	// maxSource.
	perTarget, perSource map[netip.Addr]int
	maxTarget, maxSource int
}

func newRegistry(max int, ttl time.Duration) *registry {
	return &registry{subs: map[naming.ServiceKey]map[subKey]*Subscriber{}, max: max, ttl: ttl,
		perTarget: map[netip.Addr]int{}, perSource: map[netip.Addr]int{}, maxTarget: max, maxSource: max}
}

// live reports whether a subscriber last seen at seen is still live at now.
func live(seen, now time.Time, ttl time.Duration) bool { return now.Sub(seen) <= ttl }

// add adds or refreshes a subscriber.
func (r *registry) add(s Subscriber) error {
	k := subKey{svc: s.Service, addr: s.Addr}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.subs[s.Service]
	if old, ok := m[k]; ok {
		s.Source = old.Source // counted against the first subscriber's source
		*old = s
		return nil
	}
	switch {
	case r.n >= r.max:
		return ErrFull
	case r.perTarget[s.Addr.Addr()] >= r.maxTarget:
		return fmt.Errorf("%w: %d subscriptions push to %s already", ErrFull, r.maxTarget, s.Addr.Addr())
	case r.perSource[s.Source] >= r.maxSource:
		return fmt.Errorf("%w: %d subscriptions come from %s already", ErrFull, r.maxSource, s.Source)
	}
	r.perTarget[s.Addr.Addr()]++
	r.perSource[s.Source]++
	if m == nil {
		m = map[subKey]*Subscriber{}
		r.subs[s.Service] = m
	}
	c := s
	m[k] = &c
	r.n++
	return nil
}

// has reports whether a service has any subscriber.
func (r *registry) has(key naming.ServiceKey) bool {
	r.mu.RLock()
	_, ok := r.subs[key]
	r.mu.RUnlock()
	return ok
}

// live returns copies of the service's subscribers still live at now,
// sorted by address.
func (r *registry) live(key naming.ServiceKey, now time.Time) []Subscriber {
	r.mu.RLock()
	out := make([]Subscriber, 0, len(r.subs[key]))
	for _, s := range r.subs[key] {
		if live(s.LastSeen, now, r.ttl) {
			out = append(out, *s)
		}
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Addr != out[j].Addr {
			return out[i].Addr.Compare(out[j].Addr) < 0
		}
		return out[i].Clusters < out[j].Clusters
	})
	return out
}

// expire drops the subscribers not live at now and returns how many went.
func (r *registry) expire(now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	gone := 0
	for svc, m := range r.subs {
		for k, s := range m {
			if !live(s.LastSeen, now, r.ttl) {
				delete(m, k)
				gone++
				r.forget(r.perTarget, s.Addr.Addr())
				r.forget(r.perSource, s.Source)
			}
		}
		if len(m) == 0 {
			delete(r.subs, svc)
		}
	}
	r.n -= gone
	return gone
}

// forget takes one subscription off a per-address count.
func (r *registry) forget(counts map[netip.Addr]int, a netip.Addr) {
	if counts[a] <= 1 {
		delete(counts, a)
	} else {
		counts[a]--
	}
}

func (r *registry) count() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.n
}
