package naming

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"
)

func mergeTestInstance(rng *rand.Rand, i int, updated int64, ephemeral bool) *Instance {
	in := &Instance{IP: fmt.Sprintf("10.2.0.%d", i), Port: 80, Cluster: DefaultCluster, Weight: float64(1 + rng.Intn(2)),
		Healthy: rng.Intn(3) > 0, Enabled: true, Ephemeral: ephemeral, Updated: updated}
	if rng.Intn(2) == 0 {
		in.Metadata = map[string]string{"v": fmt.Sprint(rng.Intn(2))}
	}
	return in
}

// visible renders what a reader sees of a service's instances.
func visible(s *Service) []string {
	var out []string
	for _, in := range s.Instances {
		out = append(out, fmt.Sprintf("%s e=%v w=%v h=%v u=%d md=%v beat=%d", in.Key().ID(s.Key), in.Ephemeral, in.Weight, in.Healthy, in.Updated, in.Metadata, in.LastBeat()))
	}
	return out
}

// TestMergeEphemeralMatchesReplace applies random changes both as
// OpMergeEphemeral and as OpReplaceEphemeral of the whole resulting set:
// readers must see the same service.
func TestMergeEphemeralMatchesReplace(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	k := NewServiceKey("", "", "merge")
	for round := range 500 {
		a, b := NewCatalog(), NewCatalog()
		// Start: some persistent and some ephemeral instances.
		var eph []*Instance
		for i := range 8 {
			switch rng.Intn(3) {
			case 0:
				in := mergeTestInstance(rng, i, 10, false)
				for _, c := range []*Catalog{a, b} {
					if err := c.Apply(Op{Kind: OpRegister, Time: 10, Service: k, Instance: in}); err != nil {
						t.Fatal(err)
					}
				}
			case 1:
				eph = append(eph, mergeTestInstance(rng, i, int64(rng.Intn(5)), true))
			}
		}
		for _, c := range []*Catalog{a, b} {
			if err := c.Apply(Op{Kind: OpReplaceEphemeral, Time: 20, Service: k, Instances: eph}); err != nil {
				t.Fatal(err)
			}
		}
		// Changes: updates, additions and removals over the same key space.
		want := map[InstanceKey]*Instance{}
		for _, in := range eph {
			want[in.Key()] = in
		}
		var ups []*Instance
		var rm []InstanceKey
		for i := range 8 {
			switch rng.Intn(4) {
			case 0:
				in := mergeTestInstance(rng, i, int64(5+rng.Intn(5)), true)
				ups = append(ups, in)
				want[in.Key()] = in
			case 1:
				ik := InstanceKey{IP: fmt.Sprintf("10.2.0.%d", i), Port: 80, Cluster: DefaultCluster}
				rm = append(rm, ik)
				delete(want, ik)
			}
		}
		var full []*Instance
		for _, in := range want {
			full = append(full, in)
		}
		before, _ := a.Service(k)
		if err := a.Apply(Op{Kind: OpMergeEphemeral, Time: 30, Service: k, Instances: ups, Removed: rm}); err != nil {
			t.Fatal(err)
		}
		if err := b.Apply(Op{Kind: OpReplaceEphemeral, Time: 30, Service: k, Instances: full}); err != nil {
			t.Fatal(err)
		}
		sa, _ := a.Service(k)
		sb, _ := b.Service(k)
		if !reflect.DeepEqual(visible(sa), visible(sb)) || sa.Checksum != sb.Checksum || sa.EphemeralChecksum != sb.EphemeralChecksum {
			t.Fatalf("round %d: merge gives\n%v\nreplace gives\n%v", round, visible(sa), visible(sb))
		}
		// What the merge did not touch is the very same value.
		touched := map[InstanceKey]bool{}
		for _, in := range ups {
			touched[in.Key()] = true
		}
		for _, ik := range rm {
			touched[ik] = true
		}
		kept := map[*Instance]bool{}
		for _, in := range sa.Instances {
			kept[in] = true
		}
		for _, in := range before.Instances {
			if (!in.Ephemeral || !touched[in.Key()]) && !kept[in] {
				t.Fatalf("round %d: untouched instance %v was copied", round, in.Key())
			}
		}
	}
}

func TestMergeEphemeralKeepsViewWhenOnlyUpdatedDiffers(t *testing.T) {
	c := NewCatalog()
	k := NewServiceKey("", "", "quiet")
	in := &Instance{IP: "10.2.0.1", Port: 80, Cluster: DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: true, Updated: 5}
	if err := c.Apply(Op{Kind: OpMergeEphemeral, Time: 10, Service: k, Instances: []*Instance{in}}); err != nil {
		t.Fatal(err)
	}
	s1, _ := c.Service(k)
	again := *in
	again.Updated = 9
	if err := c.Apply(Op{Kind: OpMergeEphemeral, Time: 20, Service: k, Instances: []*Instance{&again}}); err != nil {
		t.Fatal(err)
	}
	if s2, _ := c.Service(k); s2 != s1 {
		t.Fatal("a change of Updated alone published a new view")
	}
	// Removing an absent instance changes nothing either.
	if err := c.Apply(Op{Kind: OpMergeEphemeral, Time: 30, Service: k, Removed: []InstanceKey{{IP: "10.2.0.9", Port: 1, Cluster: DefaultCluster}}}); err != nil {
		t.Fatal(err)
	}
	if s3, _ := c.Service(k); s3 != s1 {
		t.Fatal("removing an absent instance published a new view")
	}
	// Bad input is refused and changes nothing.
	bad := []Op{
		{Kind: OpMergeEphemeral, Time: 40, Service: k, Instances: []*Instance{{IP: "nope", Port: 1, Cluster: DefaultCluster}}},
		{Kind: OpMergeEphemeral, Time: 40, Service: k, Removed: []InstanceKey{{IP: "10.2.0.1", Port: 70000, Cluster: DefaultCluster}}},
	}
	for _, op := range bad {
		if err := c.Apply(op); err == nil {
			t.Fatalf("accepted %+v", op)
		}
	}
	if s4, _ := c.Service(k); s4 != s1 {
		t.Fatal("a refused op changed the service")
	}
}

func TestLookupMatchesFind(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	c := NewCatalog()
	k := NewServiceKey("ns", "g", "look")
	for i := range 200 {
		in := &Instance{IP: fmt.Sprintf("10.%d.%d.%d", rng.Intn(3), rng.Intn(256), rng.Intn(256)), Port: rng.Intn(3) * 1000,
			Cluster: []string{"DEFAULT", "b", "a-1"}[rng.Intn(3)], Weight: 1, Enabled: true, Healthy: true, Ephemeral: i%2 == 0}
		if err := c.Apply(Op{Kind: OpRegister, Time: int64(i + 1), Service: k, Instance: in}); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := c.Service(k)
	for _, in := range s.Instances {
		if got := s.Lookup(in.Key()); got != s.Find(in.Key()) || got == nil {
			t.Fatalf("Lookup(%v) = %v, Find = %v", in.Key(), got, s.Find(in.Key()))
		}
	}
	for range 200 {
		ik := InstanceKey{IP: fmt.Sprintf("10.9.%d.%d", rng.Intn(256), rng.Intn(256)), Port: 80, Cluster: "DEFAULT"}
		if s.Lookup(ik) != nil {
			t.Fatalf("Lookup found absent %v", ik)
		}
	}
}
