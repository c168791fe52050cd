package dnsfront

import (
	"sync"
	"testing"

	"github.com/miekg/dns"

	"sextant/naming"
)

// TestOnMissFetchesOnDemand: a query for a service the source lacks calls
// OnMiss with the key asked; when the hook fills the source and returns
// true, the same query answers; when it returns false the answer stays
// NXDOMAIN; names of other kinds and known services never call it.
func TestOnMissFetchesOnDemand(t *testing.T) {
	c := naming.NewCatalog()
	register(t, c, key("known"), inst("10.0.0.9", 80))
	var mu sync.Mutex
	var asked []naming.ServiceKey
	s := newServer(t, c, func(cfg *Config) {
		cfg.OnMiss = func(k naming.ServiceKey) bool {
			mu.Lock()
			asked = append(asked, k)
			mu.Unlock()
			if k.Name != "lazy" {
				return false
			}
			register(t, c, k, inst("10.0.0.1", 8080))
			return true
		}
	})
	r := s.Resolve(question("lazy.service.g1.group.nacos.", dns.TypeA, 0), false)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("on-demand service: %v", r)
	}
	r = s.Resolve(question("_other._tcp.service.nacos.", dns.TypeSRV, 0), false)
	if r.Rcode != dns.RcodeNameError {
		t.Fatalf("hook said no, want NXDOMAIN: %v", r)
	}
	for _, q := range []string{"known.service.nacos.", "0a000001.addr.nacos.", "nacos.", "x.bogus.nacos."} {
		s.Resolve(question(q, dns.TypeA, 0), false)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []naming.ServiceKey{
		{Namespace: "public", Group: "g1", Name: "lazy"},
		{Namespace: "public", Group: naming.DefaultGroup, Name: "other"},
	}
	if len(asked) != len(want) || asked[0] != want[0] || asked[1] != want[1] {
		t.Fatalf("OnMiss asked %v, want %v", asked, want)
	}
	// Once held, the service no longer misses.
	s.Resolve(question("lazy.service.g1.group.nacos.", dns.TypeA, 0), false)
	if len(asked) != 2 {
		t.Fatalf("OnMiss called for a held service: %v", asked)
	}
}
