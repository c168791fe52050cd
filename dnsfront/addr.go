package dnsfront

import (
	"encoding/hex"
	"net/netip"
)

// addrLabel spells an address as the first label of its name under
// addr.<zone>: the address bytes in lowercase hex, 8 digits for IPv4 and 32
// for IPv6 (the scheme Consul uses).
func addrLabel(ip netip.Addr) string {
	b := ip.AsSlice()
	return hex.EncodeToString(b)
}

// parseAddrLabel reverses addrLabel; either case of hex digits is accepted.
func parseAddrLabel(s string) (netip.Addr, bool) {
	var b [16]byte
	if len(s) != 8 && len(s) != 32 {
		return netip.Addr{}, false
	}
	for i := 0; i < len(s); i += 2 {
		hi, ok1 := fromHex(s[i])
		lo, ok2 := fromHex(s[i+1])
		if !ok1 || !ok2 {
			return netip.Addr{}, false
		}
		b[i/2] = hi<<4 | lo
	}
	if len(s) == 8 {
		return netip.AddrFrom4([4]byte(b[:4])), true
	}
	return netip.AddrFrom16(b), true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// instanceAddr parses an instance's IP; IPv4-mapped IPv6 addresses become
// IPv4. Names and zoned addresses are not served.
func instanceAddr(s string) (netip.Addr, bool) {
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}
