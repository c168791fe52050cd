package main

import (
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func dnsQuery(t *testing.T, addr, name string, qtype uint16, tcp bool) *dns.Msg {
	t.Helper()
	c := &dns.Client{}
	if tcp {
		c.Net = "tcp"
	}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("dns %s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return r
}

// TestDNSEndToEnd registers instances over HTTP and reads them back over DNS
// from the binary: a change is visible at once, unknown names are NXDOMAIN.
func TestDNSEndToEnd(t *testing.T) {
	p := startSextant(t, "")
	for _, ip := range []string{"127.0.0.51", "127.0.0.52", "127.0.0.53"} {
		params := url.Values{"serviceName": {"web"}, "ip": {ip}, "port": {"8080"}}
		if code, body := p.do("POST", "/nacos/v1/ns/instance", params); code != 200 {
			t.Fatalf("register: %d %s", code, body)
		}
	}
	// Immediately after the HTTP answer, DNS must know.
	r := dnsQuery(t, p.dnsAddr, "web.service.nacos.", dns.TypeA, false)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 3 || !r.Authoritative {
		t.Fatalf("A web: %v", r)
	}
	r = dnsQuery(t, p.dnsAddr, "_web._tcp.service.nacos.", dns.TypeSRV, false)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 3 {
		t.Fatalf("SRV: %v", r)
	}
	glue := map[string]bool{}
	for _, rr := range r.Extra {
		if a, ok := rr.(*dns.A); ok {
			glue[a.Hdr.Name] = true
		}
	}
	for _, rr := range r.Answer {
		srv := rr.(*dns.SRV)
		if srv.Port != 8080 || !glue[srv.Target] {
			t.Errorf("SRV %v has no glue or wrong port", srv)
		}
	}
	// Deregister one: gone from DNS at once.
	if code, body := p.do("DELETE", "/nacos/v1/ns/instance", url.Values{"serviceName": {"web"}, "ip": {"127.0.0.52"}, "port": {"8080"}}); code != 200 {
		t.Fatalf("deregister: %d %s", code, body)
	}
	r = dnsQuery(t, p.dnsAddr, "web.service.nacos.", dns.TypeA, true)
	if len(r.Answer) != 2 {
		t.Fatalf("after deregister: %v", r)
	}
	if r := dnsQuery(t, p.dnsAddr, "nosuch.service.nacos.", dns.TypeA, false); r.Rcode != dns.RcodeNameError {
		t.Errorf("unknown service: rcode %s", dns.RcodeToString[r.Rcode])
	}
	if r := dnsQuery(t, p.dnsAddr, "example.com.", dns.TypeA, false); r.Rcode != dns.RcodeRefused {
		t.Errorf("outside the zone: rcode %s", dns.RcodeToString[r.Rcode])
	}

	dig, err := exec.LookPath("dig")
	if err != nil {
		t.Log("dig is not installed; the dig half of this test did not run (.ci/run installs it)")
		return
	}
	host, port, _ := strings.Cut(p.dnsAddr, ":")
	out, err := exec.Command(dig, "@"+host, "-p", port, "+tcp", "SRV", "_web._tcp.service.nacos.").CombinedOutput()
	if err != nil {
		t.Fatalf("dig: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "status: NOERROR") || !strings.Contains(string(out), "ANSWER: 2") {
		t.Errorf("dig output:\n%s", out)
	}
}
