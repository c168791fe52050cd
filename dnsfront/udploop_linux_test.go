package dnsfront

import (
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func TestReplySourceFromPktinfo(t *testing.T) {
	v4 := make([]byte, unix.SizeofInet4Pktinfo)
	copy(v4[4:8], []byte{9, 9, 9, 9})    // spec_dst: not the destination
	copy(v4[8:12], []byte{127, 0, 0, 5}) // addr: the destination
	v6 := make([]byte, unix.SizeofInet6Pktinfo)
	a6 := netip.MustParseAddr("2001:db8::5").As16()
	copy(v6, a6[:])
	mapped := make([]byte, unix.SizeofInet6Pktinfo)
	m6 := netip.MustParseAddr("::ffff:10.0.0.5").As16()
	copy(mapped, m6[:])
	other := cmsg(unix.SOL_SOCKET, unix.SO_TIMESTAMP, make([]byte, 16))
	for _, tc := range []struct {
		name string
		oob  []byte
		want netip.Addr
	}{
		{"ipv4", cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, v4), netip.MustParseAddr("127.0.0.5")},
		{"ipv6", cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, v6), netip.MustParseAddr("2001:db8::5")},
		{"mapped", cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, mapped), netip.MustParseAddr("10.0.0.5")},
		{"after another message", append(other, cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, v4)...), netip.MustParseAddr("127.0.0.5")},
		{"none", nil, netip.Addr{}},
		{"other only", other, netip.Addr{}},
		{"short", cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, v4)[:unix.CmsgLen(0)+2], netip.Addr{}},
	} {
		out := make([]byte, cmsgSpace)
		n := replySource(tc.oob, out)
		if !tc.want.IsValid() {
			if n != 0 {
				t.Errorf("%s: wrote %d bytes", tc.name, n)
			}
			continue
		}
		msgs, err := unix.ParseSocketControlMessage(out[:n])
		if err != nil || len(msgs) != 1 {
			t.Fatalf("%s: %v %v", tc.name, msgs, err)
		}
		m := msgs[0]
		var got netip.Addr
		switch {
		case tc.want.Is4() && m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_PKTINFO:
			pi := (*unix.Inet4Pktinfo)(unsafe.Pointer(&m.Data[0]))
			if pi.Ifindex != 0 || pi.Addr != [4]byte{} {
				t.Errorf("%s: %+v", tc.name, pi)
			}
			got = netip.AddrFrom4(pi.Spec_dst)
		case tc.want.Is6() && m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_PKTINFO:
			pi := (*unix.Inet6Pktinfo)(unsafe.Pointer(&m.Data[0]))
			got = netip.AddrFrom16(pi.Addr)
		}
		if got != tc.want {
			t.Errorf("%s: source %v (%+v), want %v", tc.name, got, m.Header, tc.want)
		}
	}
}
