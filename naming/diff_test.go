package naming

import (
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"testing"
)

// TestDiffInstancesReportsExactlyTheChanges compares DiffInstances with a
// map-based difference over random pairs of sorted lists that share some
// pointers, hold other values under some IDs, and each have IDs of their own.
func TestDiffInstancesReportsExactlyTheChanges(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for round := 0; round < 500; round++ {
		var before, after []*Instance
		for id := 0; id < rng.Intn(40); id++ {
			in := &Instance{IP: fmt.Sprintf("10.0.0.%d", id), Port: 80, Cluster: DefaultCluster}
			in.ID = in.Key().ID(NewServiceKey("", "g", "s"))
			switch rng.Intn(4) {
			case 0:
				before = append(before, in)
			case 1:
				after = append(after, in)
			case 2:
				before, after = append(before, in), append(after, in)
			default:
				other := *in
				before, after = append(before, in), append(after, &other)
			}
		}
		sort.Slice(before, func(i, j int) bool { return before[i].ID < before[j].ID })
		sort.Slice(after, func(i, j int) bool { return after[i].ID < after[j].ID })
		want := map[string][2]*Instance{}
		byID := map[string]*Instance{}
		for _, in := range before {
			byID[in.ID] = in
		}
		seen := map[string]bool{}
		for _, in := range after {
			seen[in.ID] = true
			if old, ok := byID[in.ID]; !ok {
				want[in.ID] = [2]*Instance{nil, in}
			} else if old != in {
				want[in.ID] = [2]*Instance{old, in}
			}
		}
		for _, in := range before {
			if !seen[in.ID] {
				want[in.ID] = [2]*Instance{in, nil}
			}
		}
		got := map[string][2]*Instance{}
		DiffInstances(before, after, func(old, cur *Instance) {
			id := ""
			if old != nil {
				id = old.ID
			} else {
				id = cur.ID
			}
			if _, dup := got[id]; dup {
				t.Fatalf("round %d: %s reported twice", round, id)
			}
			got[id] = [2]*Instance{old, cur}
		})
		if len(got) != len(want) {
			t.Fatalf("round %d: %d differences reported, want %d", round, len(got), len(want))
		}
		for id, w := range want {
			if got[id] != w {
				t.Fatalf("round %d: %s reported as %v, want %v", round, id, got[id], w)
			}
		}
	}
}

// TestDiffViewsMatchesTheLists follows a large service through rounds of
// random changes: DiffViews on the published views reports exactly what
// DiffInstances reports on their lists, and builds neither list.
func TestDiffViewsMatchesTheLists(t *testing.T) {
	c, k := largeCatalog(t)
	rng := rand.New(rand.NewSource(11))
	type change struct{ old, new *Instance }
	collect := func(diff func(fn func(old, new *Instance))) []change {
		var out []change
		diff(func(old, new *Instance) { out = append(out, change{old, new}) })
		return out
	}
	stamp := int64(2)
	for round := range 30 {
		before, _ := c.View(k)
		for range 1 + rng.Intn(5*round+1) {
			stamp++
			i := rng.Intn(largeSize + 200)
			in := largeInstance(i)
			var op Op
			switch rng.Intn(3) {
			case 0:
				op = Op{Kind: OpRegister, Time: stamp, Service: k, Instance: in}
			case 1:
				op = Op{Kind: OpDeregister, Time: stamp, Service: k, Target: in.Key(), Ephemeral: true}
			default:
				op = Op{Kind: OpSetHealth, Time: stamp, Service: k, Target: in.Key(), Healthy: rng.Intn(2) == 0, Ephemeral: true}
			}
			if err := c.Apply(op); err != nil && !errors.Is(err, ErrNotFound) {
				t.Fatal(err)
			}
		}
		after, _ := c.View(k)
		built := after.Instances != nil // a round whose ops all missed keeps the view read last round
		got := collect(func(fn func(old, new *Instance)) { DiffViews(before, after, fn) })
		if !built && after.Instances != nil {
			t.Fatal("DiffViews built an instance list")
		}
		want := collect(func(fn func(old, new *Instance)) {
			DiffInstances(listOf(before), listOf(after), fn)
		})
		if len(got) != len(want) {
			t.Fatalf("round %d: %d differences, the lists have %d", round, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("round %d: difference %d is %v, the lists say %v", round, i, got[i], want[i])
			}
		}
	}
	// A missing view is a view without instances.
	v, _ := c.View(k)
	n := 0
	DiffViews(nil, v, func(old, new *Instance) {
		if old != nil || new == nil {
			t.Fatal("an instance of a service that did not exist was not reported as new")
		}
		n++
	})
	if n != v.Len() {
		t.Fatalf("%d instances reported new, the view holds %d", n, v.Len())
	}
	// A view built by hand is compared by its list.
	hand := &Service{Key: k, Instances: []*Instance{largeInstance(0)}}
	n = 0
	DiffViews(hand, nil, func(old, new *Instance) { n++ })
	if n != 1 {
		t.Fatalf("%d differences between a one-instance view and none", n)
	}
}
