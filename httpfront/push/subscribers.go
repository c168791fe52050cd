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
	Agent    string
	App      string
	LastSeen time.Time
}

// Errors of Subscribe.
var (
	ErrDisabled = errors.New("push is disabled")
	ErrFull     = errors.New("too many push subscribers")
)

// resolveTarget picks the address a subscription is pushed to.
func resolveTarget(target string, s Subscription) (netip.AddrPort, error) {
	if s.UDPPort <= 0 || s.UDPPort > 65535 {
		return netip.AddrPort{}, fmt.Errorf("illegal udp port %d", s.UDPPort)
	}
	ip := strings.TrimSpace(s.ClientIP)
	if target == TargetSource || ip == "" {
		ip = s.SourceIP
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("illegal push target ip %q", ip)
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(s.UDPPort)), nil
}

type subKey struct {
	svc      naming.ServiceKey
	clusters string
	addr     netip.AddrPort
}

// registry holds the subscribers, bounded in number. Methods take the time
// so the expiry rule can be tested without a clock.
type registry struct {
	mu   sync.RWMutex
	subs map[naming.ServiceKey]map[subKey]*Subscriber
	n    int
	max  int
	ttl  time.Duration
}

func newRegistry(max int, ttl time.Duration) *registry {
	return &registry{subs: map[naming.ServiceKey]map[subKey]*Subscriber{}, max: max, ttl: ttl}
}

// live reports whether a subscriber last seen at seen is still live at now.
func live(seen, now time.Time, ttl time.Duration) bool { return now.Sub(seen) <= ttl }

// add adds or refreshes a subscriber.
func (r *registry) add(s Subscriber) error {
	k := subKey{svc: s.Service, clusters: s.Clusters, addr: s.Addr}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.subs[s.Service]
	if old, ok := m[k]; ok {
		*old = s
		return nil
	}
	if r.n >= r.max {
		return ErrFull
	}
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
			}
		}
		if len(m) == 0 {
			delete(r.subs, svc)
		}
	}
	r.n -= gone
	return gone
}

func (r *registry) count() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.n
}
