package client

import (
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"
)

// serverList is the set of servers and what the client remembers of their
// failures. Each request walks order(): every server once, from a random
// start, those that failed within the cool-down last.
//
// The failures are a plain map rather than an expiring cache (go-cache):
// order() needs the time of each failure, to try the longest-failed server
// first, and the cool-down is tested with an injected clock (now), which
// go-cache, reading the wall clock itself, cannot take. A failure older
// than the cool-down is simply no longer counted; the map holds at most one
// entry per configured server, and set() drops those of removed servers.
type serverList struct {
	mu       sync.Mutex
	addrs    []string
	failed   map[string]time.Time
	cooldown time.Duration
	now      func() time.Time
	intn     func(int) int
}

func newServerList(addrs []string, cooldown time.Duration) *serverList {
	l := &serverList{failed: map[string]time.Time{}, cooldown: cooldown, now: time.Now, intn: rand.IntN}
	l.set(addrs)
	return l
}

// set replaces the list (duplicates dropped); failures of servers that stay
// are kept.
func (l *serverList) set(addrs []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, a := range addrs {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for a := range l.failed {
		if !slices.Contains(out, a) {
			delete(l.failed, a)
		}
	}
	l.addrs = out
}

// list returns the servers as configured.
func (l *serverList) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.addrs)
}

// order returns every server once: the healthy ones in turn from a random
// start, then those in cool-down, the longest-failed first.
func (l *serverList) order() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.addrs)
	if n == 0 {
		return nil
	}
	start := l.intn(n)
	now := l.now()
	out := make([]string, 0, n)
	var cooling []string
	for i := 0; i < n; i++ {
		a := l.addrs[(start+i)%n]
		if t, ok := l.failed[a]; ok && now.Sub(t) < l.cooldown {
			cooling = append(cooling, a)
			continue
		}
		out = append(out, a)
	}
	sort.SliceStable(cooling, func(i, j int) bool { return l.failed[cooling[i]].Before(l.failed[cooling[j]]) })
	return append(out, cooling...)
}

// fail records that a server did not answer.
func (l *serverList) fail(addr string) {
	l.mu.Lock()
	l.failed[addr] = l.now()
	l.mu.Unlock()
}

// ok records that a server answered.
func (l *serverList) ok(addr string) {
	l.mu.Lock()
	delete(l.failed, addr)
	l.mu.Unlock()
}
