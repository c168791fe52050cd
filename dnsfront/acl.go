package dnsfront

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// recursionACL says which clients may have names outside the zone
// forwarded to the recursors. A query from anyone else for such a name is
// REFUSED, and their answers do not offer recursion, so the node is never
// an open resolver.
type recursionACL []netip.Prefix

// parseACL reads CIDRs ("10.0.0.0/8") and plain addresses (one host).
func parseACL(list []string) (recursionACL, error) { return parseNets("dns recursion allow", list) }

// parseNets reads a list of networks; what names it in errors.
func parseNets(what string, list []string) (recursionACL, error) {
	var out recursionACL
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("%s %q: not an address or CIDR", what, s)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %v", what, s, err)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// allows reports whether client may recurse. An invalid client (Resolve
// called without a socket) is allowed: the caller vouches for it.
func (a recursionACL) allows(client netip.Addr) bool {
	if !client.IsValid() {
		return true
	}
	client = client.Unmap()
	for _, p := range a {
		if p.Contains(client) {
			return true
		}
	}
	return false
}

// clientAddr returns the address of the client a socket serves.
func clientAddr(a net.Addr) netip.Addr {
	switch v := a.(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
