package healthcheck

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// Probes are sent on behalf of whoever may write a namespace, to addresses
// and ports they choose: without a bound they would reach what only the
// node can reach (its loopback services, link-local neighbours, a cloud
// metadata service) and report what answered. Unless
// ProbeConfig.AllowInternal is set, a probe to such an address fails
// before a packet is sent. The address checked is the one dialled, after
// any name resolution.

// metadataNets are cloud metadata services outside the link-local ranges.
var metadataNets = []netip.Prefix{
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS over IPv6
}

// internalAddr names the kind of ip when probes must not reach it, or "".
func internalAddr(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsUnspecified():
		return "unspecified (this host)"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	}
	for _, n := range metadataNets {
		if n.Contains(ip) {
			return "cloud metadata"
		}
	}
	return ""
}

// ErrInternalTarget is the error of a probe refused by refuseInternal.
type ErrInternalTarget struct {
	Addr, Kind string
}

func (e *ErrInternalTarget) Error() string {
	return fmt.Sprintf("probe to %s refused: %s addresses are not probed (health-check-allow-internal)", e.Addr, e.Kind)
}

// refuseInternal is a net.Dialer Control that refuses internal addresses.
func refuseInternal(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &ErrInternalTarget{Addr: address, Kind: "unparsable"}
	}
	if kind := internalAddr(ap.Addr()); kind != "" {
		return &ErrInternalTarget{Addr: address, Kind: kind}
	}
	return nil
}

// dialer is the dialer of probes: it refuses internal addresses unless
// allowInternal.
func dialer(allowInternal bool) *net.Dialer {
	d := &net.Dialer{}
	if !allowInternal {
		d.Control = refuseInternal
	}
	return d
}
