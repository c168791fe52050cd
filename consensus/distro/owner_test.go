package distro

import (
	"fmt"
	"slices"
	"testing"

	"sextant/naming"
)

func TestRendezvousOwner(t *testing.T) {
	members := []string{"10.0.0.1:8848", "10.0.0.2:8848", "10.0.0.3:8848", "10.0.0.4:8848", "10.0.0.5:8848"}
	const n = 5000
	counts := map[string]int{}
	before := map[string]string{}
	for i := range n {
		k := svc(fmt.Sprintf("service-%d", i))
		o := Owner(k, members)
		counts[o]++
		before[k.Name] = o
		// The order of the member list does not matter.
		rev := slices.Clone(members)
		slices.Reverse(rev)
		if Owner(k, rev) != o {
			t.Fatalf("%s: owner depends on list order", k)
		}
	}
	for _, m := range members {
		if c := counts[m]; c < n/5*7/10 || c > n/5*13/10 {
			t.Errorf("%s owns %d of %d keys: badly balanced %v", m, c, n, counts)
		}
	}
	// A member leaving moves only its own keys.
	gone := members[2]
	rest := slices.Delete(slices.Clone(members), 2, 3)
	moved := 0
	for name, o := range before {
		now := Owner(svc(name), rest)
		if o != gone && now != o {
			t.Fatalf("%s moved from %s to %s though %s left", name, o, now, gone)
		}
		if o == gone {
			moved++
		}
	}
	if moved != counts[gone] {
		t.Fatalf("moved %d, want %d", moved, counts[gone])
	}
	if Owner(svc("x"), nil) != "" {
		t.Error("owner without members")
	}
}

func BenchmarkOwnsCached(b *testing.B) {
	v := fixedView{self: "10.0.0.1:8848", live: []string{"10.0.0.1:8848", "10.0.0.2:8848", "10.0.0.3:8848"}}
	e, err := New(testConfig(), naming.NewCatalog(), v, NewNetwork(1).Transport(v.self), nil)
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]naming.ServiceKey, 1000)
	for i := range keys {
		keys[i] = svc(fmt.Sprintf("service-%d", i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Owns(keys[i%len(keys)])
	}
}

func BenchmarkOwnerUncached(b *testing.B) {
	members := []string{"10.0.0.1:8848", "10.0.0.2:8848", "10.0.0.3:8848", "10.0.0.4:8848", "10.0.0.5:8848"}
	k := svc("some-service-name")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Owner(k, members)
	}
}
