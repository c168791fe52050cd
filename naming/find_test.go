package naming

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// CompareKeys must order valid keys exactly as their ID strings compare,
// and AppendID must build the ID.
func TestCompareKeysMatchesIDOrder(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	ipChars, clusterChars := "0123456789abcdef.:", "aZ09_-."
	word := func(alphabet string) string {
		n := r.Intn(5)
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteByte(alphabet[r.Intn(len(alphabet))])
		}
		return b.String()
	}
	ports := []int{0, 1, 8, 80, 800, 8080, 9, 99, 10, 100, 1000, 6553, 65534, 65535, -1, -80, 1 << 50, 1e15 - 1, 1e15}
	key := func() InstanceKey {
		return InstanceKey{IP: word(ipChars), Port: ports[r.Intn(len(ports))], Cluster: word(clusterChars)}
	}
	for n := 0; n < 200000; n++ {
		svc := ServiceKey{Namespace: "ns", Group: word("19#@.:aZ_-"), Name: word("19#@.:aZ_-")}
		a, b := key(), key()
		switch r.Intn(3) { // nearby keys: one part the same
		case 0:
			b.IP = a.IP
		case 1:
			b.IP, b.Port = a.IP, a.Port
		}
		if id := string(a.AppendID(nil, svc)); id != a.ID(svc) {
			t.Fatalf("AppendID %q, ID %q", id, a.ID(svc))
		}
		want := strings.Compare(a.ID(svc), b.ID(svc))
		if got := CompareKeys(a, b); got != want {
			t.Fatalf("CompareKeys(%+v, %+v) = %d, ID order %d", a, b, got, want)
		}
	}
}

// Find on a published view (binary search) must agree with a scan.
func TestFindSearchMatchesScan(t *testing.T) {
	c := NewCatalog()
	k := NewServiceKey("", "g", "svc")
	var keys []InstanceKey
	for _, ip := range []string{"10.0.0.1", "10.0.0.10", "10.0.0.100", "10.0.0.2", "::1", "fe80::1", "1.2.3.4"} {
		for _, port := range []int{1, 8, 80, 8080, 9, 65535} {
			for _, cl := range []string{"DEFAULT", "a", "a-b", "A"} {
				keys = append(keys, InstanceKey{IP: ip, Port: port, Cluster: cl})
			}
		}
	}
	for i, ik := range keys {
		if i%3 == 0 {
			continue // some keys stay absent
		}
		if err := c.Apply(Op{Kind: OpRegister, Time: 1, Service: k, Instance: &Instance{
			IP: ik.IP, Port: ik.Port, Cluster: ik.Cluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: i%2 == 0}}); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := c.Service(k)
	if s.tree == nil {
		t.Fatal("a published view has no instance tree to search")
	}
	scan := &Service{Key: s.Key, Instances: s.Instances}
	for i, ik := range keys {
		got, want := s.Find(ik), scan.Find(ik)
		if got != want {
			t.Fatalf("Find(%v) = %v, scan = %v", ik, got, want)
		}
		if (want != nil) == (i%3 == 0) {
			t.Fatalf("Find(%v) = %v: registered is %v", ik, want, i%3 != 0)
		}
		if l := s.Lookup(ik); l != want {
			t.Fatalf("Lookup(%v) = %v, scan = %v", ik, l, want)
		}
	}
}

// A Service built by hand, in any order and without IDs, is still found.
func TestFindUnsortedHandBuilt(t *testing.T) {
	a := &Instance{IP: "10.0.0.9", Port: 80, Cluster: DefaultCluster}
	b := &Instance{IP: "10.0.0.1", Port: 80, Cluster: DefaultCluster}
	s := &Service{Key: NewServiceKey("", "", "x"), Instances: []*Instance{a, b}}
	if s.Find(b.Key()) != b || s.Find(a.Key()) != a {
		t.Fatal("hand-built service: instance not found")
	}
}

func BenchmarkFind(b *testing.B) {
	c := NewCatalog()
	k := NewServiceKey("", "", "svc")
	for i := 0; i < 1000; i++ {
		_ = c.Apply(Op{Kind: OpRegister, Time: 1, Service: k, Instance: &Instance{
			IP: fmt.Sprintf("127.1.%d.%d", i/250, i%250+1), Port: 9000, Cluster: DefaultCluster, Weight: 1,
			Healthy: true, Enabled: true, Ephemeral: true}})
	}
	s, _ := c.Service(k)
	probe := InstanceKey{IP: "127.1.3.7", Port: 9000, Cluster: DefaultCluster}
	b.ReportAllocs()
	for n := 0; n < b.N; n++ {
		if s.Find(probe) == nil {
			b.Fatal("not found")
		}
	}
}

// Through every kind of change, a published view stays sorted, searchable
// (Find agrees with a scan) and holds only owned instances.
func TestViewsStaySearchableAndOwned(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	c := NewCatalog()
	for i := 0; i < 3000; i++ {
		_ = c.Apply(randomOp(r, int64(i+1)))
		for _, s := range c.Services("", "") {
			scan := &Service{Key: s.Key, Instances: s.Instances}
			for j, in := range s.Instances {
				if !in.owned {
					t.Fatalf("op %d: %v holds an instance not owned: %s", i, s.Key, in.Key().ID(s.Key))
				}
				if j > 0 && s.Instances[j-1].Key().ID(s.Key) > in.Key().ID(s.Key) {
					t.Fatalf("op %d: %v not sorted at %d", i, s.Key, j)
				}
			}
			for ip := 1; ip <= 8; ip++ {
				for port := 80; port <= 81; port++ {
					k := InstanceKey{IP: fmt.Sprint("10.0.0.", ip), Port: port, Cluster: DefaultCluster}
					if s.Find(k) != scan.Find(k) {
						t.Fatalf("op %d: %v: Find(%v) differs from a scan", i, s.Key, k)
					}
				}
			}
		}
	}
}
