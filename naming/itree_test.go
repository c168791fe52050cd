package naming

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// checkTree fails unless t is a well-formed tree holding exactly want
// (sorted by ID): counts, separators, uniform depth and node widths.
func checkTree(t *testing.T, tr *tnode, want []*Instance, svc ServiceKey) {
	t.Helper()
	got := tr.appendTo(nil)
	if !slices.Equal(got, want) {
		t.Fatalf("tree holds %d instances, want %d (or another order)", len(got), len(want))
	}
	if tr.size() != len(want) {
		t.Fatalf("tree counts %d, holds %d", tr.size(), len(want))
	}
	if tr == nil {
		return
	}
	leafDepth := -1
	var walk func(n *tnode, d int)
	walk = func(n *tnode, d int) {
		if n.width() == 0 || n.width() > treeFan {
			t.Fatalf("node of width %d", n.width())
		}
		first := n.appendTo(nil)
		if n.min != first[0].Key() || n.n != len(first) {
			t.Fatalf("node min %v n %d, holds %q… (%d)", n.min, n.n, first[0].ID, len(first))
		}
		if n.leaf() {
			if leafDepth == -1 {
				leafDepth = d
			} else if leafDepth != d {
				t.Fatalf("leaves at depths %d and %d", leafDepth, d)
			}
			return
		}
		for _, k := range n.kids {
			walk(k, d+1)
		}
	}
	walk(tr, 0)
	for _, in := range want {
		if tr.get(in.Key()) != in {
			t.Fatalf("get(%s) misses", in.ID)
		}
	}
}

func treeInstance(svc ServiceKey, i int) *Instance {
	in := &Instance{IP: fmt.Sprintf("10.0.%d.%d", i/256, i%256), Port: 8000 + i%3, Cluster: DefaultCluster}
	in.ID = in.Key().ID(svc)
	return in
}

// Random adds, replacements and removals keep the tree equal to a list
// sorted by the ID strings; every earlier version keeps what it held; diffTrees reports what a
// list diff reports.
func TestTreeAgreesWithSortedList(t *testing.T) {
	svc := NewServiceKey("", "", "tree")
	for seed := int64(1); seed <= 4; seed++ {
		r := rand.New(rand.NewSource(seed))
		var tr *tnode
		var list []*Instance
		type version struct {
			tr   *tnode
			list []*Instance
		}
		var versions []version
		space := 50 + r.Intn(3000)
		for step := 0; step < 4000; step++ {
			in := treeInstance(svc, r.Intn(space))
			if r.Intn(3) == 0 {
				var removed *Instance
				tr, removed = tr.del(in.Key())
				i, found := slices.BinarySearchFunc(list, in.ID, func(x *Instance, id string) int { return strings.Compare(x.ID, id) })
				if found != (removed != nil) {
					t.Fatalf("seed %d step %d: del(%s) removed %v, list holds it: %v", seed, step, in.ID, removed, found)
				}
				if found {
					list = slices.Delete(slices.Clone(list), i, i+1)
				}
			} else {
				var prev *Instance
				tr, prev = tr.set(in)
				i, found := slices.BinarySearchFunc(list, in.ID, func(x *Instance, id string) int { return strings.Compare(x.ID, id) })
				if found != (prev != nil) || found && prev != list[i] {
					t.Fatalf("seed %d step %d: set(%s) replaced %v", seed, step, in.ID, prev)
				}
				list = slices.Clone(list)
				if found {
					list[i] = in
				} else {
					list = slices.Insert(list, i, in)
				}
			}
			if step%97 == 0 {
				checkTree(t, tr, list, svc)
				versions = append(versions, version{tr, list})
			}
		}
		for i, v := range versions {
			checkTree(t, v.tr, v.list, svc)
			if i == 0 {
				continue
			}
			var gotOld, gotNew, wantOld, wantNew []*Instance
			diffTrees(versions[i-1].tr, v.tr, func(a, b *Instance) { gotOld, gotNew = append(gotOld, a), append(gotNew, b) })
			DiffInstances(versions[i-1].list, v.list, func(a, b *Instance) { wantOld, wantNew = append(wantOld, a), append(wantNew, b) })
			if !slices.Equal(gotOld, wantOld) || !slices.Equal(gotNew, wantNew) {
				t.Fatalf("seed %d: diffTrees between versions %d and %d differs from the list diff", seed, i-1, i)
			}
		}
		for tr != nil {
			var removed *Instance
			tr, removed = tr.del(list[0].Key())
			if removed != list[0] {
				t.Fatalf("seed %d: draining removed %v, want %s", seed, removed, list[0].ID)
			}
			list = list[1:]
			checkTree(t, tr, list, svc)
		}
	}
}

// One change to a 10,000-instance tree copies one path, not the tree.
func TestTreeChangeCopiesOnePath(t *testing.T) {
	svc := NewServiceKey("", "", "tree")
	list := make([]*Instance, 10000)
	for i := range list {
		list[i] = treeInstance(svc, i)
	}
	sortInstances(list)
	tr := buildTree(list)
	checkTree(t, tr, list, svc)
	n := list[5000].clone()
	allocs := testing.AllocsPerRun(100, func() { tr.set(n) })
	if allocs > 8 {
		t.Fatalf("a replacement allocates %v times", allocs)
	}
	nt, _ := tr.set(n)
	shared := 0
	for i, k := range nt.kids {
		if k == tr.kids[i] {
			shared++
		}
	}
	if shared != len(tr.kids)-1 {
		t.Fatalf("the new root shares %d of %d kids", shared, len(tr.kids))
	}
}

// A change builds no instance list: the new view's list is built on its
// first read, once, and readers racing for it all get the same list, equal
// to the tree's content. Run with -race.
func TestViewListBuiltOnceOnFirstRead(t *testing.T) {
	c, k := largeCatalog(t)
	ik := largeInstance(77).Key()
	for round := range 20 {
		if err := c.Apply(Op{Kind: OpSetHealth, Time: int64(round + 2), Service: k, Target: ik, Healthy: round%2 == 1, Ephemeral: true}); err != nil {
			t.Fatal(err)
		}
		c.mu.RLock()
		raw := c.services[k]
		c.mu.RUnlock()
		if raw.Instances != nil {
			t.Fatal("the change built the instance list")
		}
		if in, ok := c.Instance(k, ik); !ok || in.Healthy != (round%2 == 1) || raw.Len() != largeSize {
			t.Fatal("the tree does not hold the change")
		}
		lists := make(chan []*Instance, 4)
		for range 4 {
			go func() {
				s, _ := c.Service(k)
				lists <- s.Instances
			}()
		}
		first := <-lists
		for range 3 {
			if l := <-lists; &l[0] != &first[0] {
				t.Fatal("readers of one view got different lists")
			}
		}
		var walked []*Instance
		for in := range raw.All() {
			walked = append(walked, in)
		}
		if !slices.Equal(first, walked) || len(first) != largeSize {
			t.Fatalf("the list holds %d instances, the tree %d", len(first), len(walked))
		}
	}
}

// replaceAll gives the tree that replacing the same instances one by one
// gives, and leaves the old tree as it was.
func TestReplaceAllAgreesWithSet(t *testing.T) {
	k := NewServiceKey("", "", "replace")
	rng := rand.New(rand.NewSource(3))
	for _, size := range []int{1, 31, 33, 1000, 5000} {
		list := make([]*Instance, size)
		for i := range list {
			list[i] = treeInstance(k, i)
		}
		sortInstances(list)
		tree := buildTree(list)
		for round := range 20 {
			want := slices.Clone(list)
			var ins []*Instance
			one := tree
			for i := range want {
				if rng.Intn(1+round) != 0 {
					continue
				}
				n := *want[i]
				n.Weight = float64(round + 2)
				want[i] = &n
				ins = append(ins, &n)
				one, _ = one.set(&n)
			}
			got := tree.replaceAll(ins)
			checkTree(t, got, want, k)
			checkTree(t, one, want, k)
			checkTree(t, tree, list, k)
		}
	}
}
