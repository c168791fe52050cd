package dnsfront

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDig asks the server with dig, the tool operators use, and reads its
// report.
func TestDig(t *testing.T) {
	dig, err := exec.LookPath("dig")
	if err != nil {
		t.Skip("dig is not installed (Debian: apt-get install bind9-dnsutils); this test needs it")
	}
	c := fixture(t)
	bigService(t, c, "big", 60)
	s := startServer(t, c, nil)
	host, port, _ := net.SplitHostPort(s.UDPAddr())
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		args = append([]string{"@" + host, "-p", port, "+tries=1", "+time=2"}, args...)
		out, err := exec.CommandContext(ctx, dig, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("dig %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"SRV", "_orders._tcp.service.nacos"}, []string{"status: NOERROR", "flags: qr aa rd;", "ANSWER: 3,", "ADDITIONAL: 4"}},
		{[]string{"+tcp", "SRV", "_orders._tcp.service.nacos"}, []string{"status: NOERROR", "ANSWER: 3,", "ADDITIONAL: 4"}},
		{[]string{"A", "orders.service.nacos"}, []string{"status: NOERROR", "ANSWER: 3,"}},
		{[]string{"A", "nosuch.service.nacos"}, []string{"status: NXDOMAIN", "ANSWER: 0,", "AUTHORITY: 1,"}},
		{[]string{"AAAA", "orders.service.nacos"}, []string{"status: NOERROR", "ANSWER: 0,", "AUTHORITY: 1,"}},
		{[]string{"+edns=1", "+noednsnegotiation", "A", "orders.service.nacos"}, []string{"status: BADVERS", "ANSWER: 0,", "EDNS: version: 0"}},
		{[]string{"+ednsopt=100:abcd", "+ednsflags=0x40", "A", "orders.service.nacos"}, []string{"status: NOERROR", "EDNS: version: 0, flags:;", "ANSWER: 3,"}},
		{[]string{"+dnssec", "SOA", "nacos"}, []string{"status: NOERROR", "flags: do;", "ANSWER: 1,"}},
		{[]string{"+ignore", "+bufsize=4096", "SRV", "_big._tcp.service.nacos"}, []string{"flags: qr aa tc rd;", "udp: 1232"}},
		{[]string{"+tcp", "SRV", "_big._tcp.service.nacos"}, []string{"ANSWER: 60,", "ADDITIONAL: 61"}},
		{[]string{"A", "example.com"}, []string{"status: REFUSED"}},
	} {
		out := run(tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("dig %v: no %q in\n%s", tc.args, w, out)
			}
		}
	}
	// The SRV records dig saw must all have been served.
	out := run("+short", "SRV", "_orders._tcp.service.nacos")
	if n := len(strings.Fields(out)); n != 12 {
		t.Errorf("dig +short SRV: %q", out)
	}
}
