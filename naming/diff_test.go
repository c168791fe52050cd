package naming

import (
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
