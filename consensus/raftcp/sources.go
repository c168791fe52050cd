package raftcp

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"
)

// sources is the set of addresses the Raft port accepts connections from:
// the hosts of the members' Raft addresses, resolved. Host names are
// resolved again, in the background and at most every refreshEvery, when
// an unknown address connects, so a member whose name resolves late (a
// pod starting) is admitted on its next dial.
type sources struct {
	mu         sync.Mutex
	hosts      []string
	ips        map[netip.Addr]bool
	names      bool // some host is a name, not an address
	last       time.Time
	refreshing bool
}

const refreshEvery = 5 * time.Second

// newSources admits the hosts of raftAddrs (names once refreshed).
func newSources(raftAddrs []string) *sources {
	s := &sources{}
	s.set(raftAddrs)
	return s
}

// set replaces the admitted hosts by those of raftAddrs. Addresses are
// admitted at once, names once resolved (refresh).
func (s *sources) set(raftAddrs []string) {
	var hosts []string
	ips := map[netip.Addr]bool{}
	names := false
	for _, a := range raftAddrs {
		h, _, err := net.SplitHostPort(a)
		if err != nil {
			h = a
		}
		hosts = append(hosts, h)
		if ip, err := netip.ParseAddr(h); err == nil {
			ips[ip.Unmap()] = true
		} else {
			names = true
		}
	}
	s.mu.Lock()
	s.hosts, s.ips, s.names, s.last = hosts, ips, names, time.Time{}
	s.mu.Unlock()
}

// refresh resolves the names among the hosts now.
func (s *sources) refresh() {
	s.mu.Lock()
	hosts, names := s.hosts, s.names
	s.mu.Unlock()
	if !names {
		return
	}
	ips := resolve(hosts)
	s.mu.Lock()
	s.ips, s.last = ips, time.Now()
	s.mu.Unlock()
}

// admits reports whether ip is a member's address.
func (s *sources) admits(ip netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ips[ip.Unmap()] {
		return true
	}
	if s.names && !s.refreshing && time.Since(s.last) > refreshEvery {
		s.refreshing, s.last = true, time.Now()
		hosts := s.hosts
		go func() {
			ips := resolve(hosts)
			s.mu.Lock()
			s.ips, s.refreshing = ips, false
			s.mu.Unlock()
		}()
	}
	return false
}

// resolve maps hosts to their addresses; names that do not resolve (yet)
// are left out.
func resolve(hosts []string) map[netip.Addr]bool {
	ips := map[netip.Addr]bool{}
	for _, h := range hosts {
		if a, err := netip.ParseAddr(h); err == nil {
			ips[a.Unmap()] = true
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		as, err := net.DefaultResolver.LookupNetIP(ctx, "ip", h)
		cancel()
		if err != nil {
			continue
		}
		for _, a := range as {
			ips[a.Unmap()] = true
		}
	}
	return ips
}

// sourceIP is the IP of a connection's remote address.
func sourceIP(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(t.IP); ok {
			return ip.Unmap()
		}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap.Addr().Unmap()
}

// AllowPeers makes the Raft port admit connections from the hosts of
// peers besides those of Config.Peers: call it when the member list
// changes, on every node, so that members added later can connect.
func (n *Node) AllowPeers(peers []Peer) {
	n.sources.set(append(peerAddrs(n.cfg.Peers), peerAddrs(peers)...))
	n.sources.refresh()
}

// peerAddrs lists the Raft addresses of peers.
func peerAddrs(peers []Peer) []string {
	out := make([]string, len(peers))
	for i, p := range peers {
		out[i] = p.RaftAddr
	}
	return out
}
