package dnsfront

import (
	"fmt"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"sextant/naming"
)

// readerOnly hides the catalog's View and Views, as a source that has only
// naming.ServiceReader (a test table, the gateway's mirror) does.
type readerOnly struct{ naming.ServiceReader }

// TestIndexFollowsChangesWithoutBuildingLists: the index follows changes to
// a service of 100 instances (several tree leaves) without building its
// instance list, so a change costs it no walk of the instances; the first
// query after the changes answers their result, as a server over a
// source without views does.
func TestIndexFollowsChangesWithoutBuildingLists(t *testing.T) {
	c := naming.NewCatalog()
	k := key("big")
	bigService(t, c, "big", 100)
	s := newServer(t, c, nil)
	unbuilt := func(step string) {
		t.Helper()
		if v, _ := c.View(k); v.Instances != nil {
			t.Fatalf("%s: the DNS index built the list of %d instances", step, len(v.Instances))
		}
	}
	answer := func(s *Server) []string {
		t.Helper()
		r := s.Resolve(question("big.service.nacos.", dns.TypeA, 0), true)
		if r.Rcode != dns.RcodeSuccess {
			t.Fatalf("rcode %s", dns.RcodeToString[r.Rcode])
		}
		var ips []string
		for _, rr := range r.Answer {
			ips = append(ips, rr.(*dns.A).A.String())
		}
		slices.Sort(ips)
		return ips
	}
	want := func(skip string, extra ...string) []string {
		var ips []string
		for i := 0; i < 100; i++ {
			if ip := fmt.Sprintf("10.1.%d.%d", i/250, i%250+1); ip != skip {
				ips = append(ips, ip)
			}
		}
		ips = append(ips, extra...)
		slices.Sort(ips)
		return ips
	}
	unbuilt("load")
	if got := answer(s); !slices.Equal(got, want("")) {
		t.Fatalf("DNS answers %d addresses, want 100", len(got))
	}
	east := inst("10.2.0.1", 8080)
	east.Cluster = "east"
	register(t, c, k, east)
	flip := naming.Op{Kind: naming.OpSetHealth, Time: 2000, Service: k, Ephemeral: true, Healthy: false,
		Target: naming.InstanceKey{IP: "10.1.0.5", Port: 8080, Cluster: naming.DefaultCluster}}
	if err := c.Apply(flip); err != nil {
		t.Fatal(err)
	}
	unbuilt("register and flip")
	if got, w := answer(s), want("10.1.0.5", "10.2.0.1"); !slices.Equal(got, w) {
		t.Fatalf("after the changes DNS answers %v, want %v", got, w)
	}
	plain := newServer(t, readerOnly{c}, nil) // reads through Service
	if got, w := answer(plain), answer(s); !slices.Equal(got, w) {
		t.Fatalf("a source without views answers %v, the catalog %v", got, w)
	}
}
