package dnsfront

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"sextant/naming"
)

// upstream runs a resolver on 127.0.0.1 that answers every A query with
// 192.0.2.1 and the name spelled in lowercase, as some resolvers do, and
// returns its address (the same port for UDP and TCP).
func upstream(t *testing.T) string {
	t.Helper()
	pcs, ln, err := listen(t.Context(), "127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	pc := pcs[0]
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Question[0].Name = dns.CanonicalName(m.Question[0].Name)
		m.Answer = append(m.Answer, &dns.A{
			Hdr: dns.RR_Header{Name: m.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
			A:   net.IPv4(192, 0, 2, 1),
		})
		w.WriteMsg(m)
	})
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return pc.LocalAddr().String()
}

// closedPort returns a local address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	pcs, ln, err := listen(t.Context(), "127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	pc := pcs[0]
	pc.Close()
	ln.Close()
	return pc.LocalAddr().String()
}

func TestForwardOutsideZone(t *testing.T) {
	up := upstream(t)
	s := newServer(t, fixture(t), func(c *Config) { c.Recursors = []string{closedPort(t), up} })
	for _, tcp := range []bool{false, true} {
		req := question("Example.COM.", dns.TypeA, 1232)
		resp := s.Resolve(req, tcp)
		if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 || !resp.RecursionAvailable || resp.Id != req.Id {
			t.Fatalf("tcp=%v: %v", tcp, resp)
		}
		if resp.Question[0] != req.Question[0] {
			t.Errorf("tcp=%v: question %v, want it as asked", tcp, resp.Question[0])
		}
	}
	// Own answers still come from the catalog, with RA offered.
	own := s.Resolve(question("orders.service.nacos.", dns.TypeA, 0), false)
	if !own.Authoritative || !own.RecursionAvailable || len(own.Answer) != 3 {
		t.Errorf("own answer: %v", own)
	}
}

func TestForwardFailureIsServfail(t *testing.T) {
	s := newServer(t, naming.NewCatalog(), func(c *Config) {
		c.Recursors = []string{closedPort(t)}
		c.RecursorTimeout = 500 * time.Millisecond
	})
	for _, tcp := range []bool{false, true} {
		resp := s.Resolve(question("example.com.", dns.TypeA, 1232), tcp)
		if resp.Rcode != dns.RcodeServerFailure || !resp.RecursionAvailable || resp.IsEdns0() == nil {
			t.Errorf("tcp=%v: %v", tcp, resp)
		}
	}
}

func TestForwardOverSockets(t *testing.T) {
	up := upstream(t)
	s := startServer(t, naming.NewCatalog(), func(c *Config) { c.Recursors = []string{up} })
	for _, network := range []string{"udp", "tcp"} {
		resp := exchange(t, s, question("example.org.", dns.TypeA, 0), network)
		if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 || !resp.RecursionAvailable {
			t.Errorf("%s: %v", network, resp)
		}
	}
}
