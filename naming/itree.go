package naming

import (
	"slices"
)

// itree is the instance store of a published view: a persistent B+tree of
// instances sorted by ID (by CompareKeys: the IDs themselves are not kept). A node is never modified once a view holds it; a
// change copies the nodes on the path from the root to one leaf (a few
// hundred bytes each) and shares every other node with the previous
// version, so one change costs O(log n) whatever the size of the service,
// and every earlier view keeps its own immutable tree.
//
// All leaves are at the same depth. A node holds at most treeFan entries
// and, unless it is the root, at least treeMin after a deletion (it is
// merged with a neighbour below that).
const (
	treeFan = 32
	treeMin = treeFan / 4
)

// tnode is a leaf (items set) or an inner node (kids set).
type tnode struct {
	items []*Instance
	kids  []*tnode
	// n is the number of instances below the node.
	n int
	// min is the smallest key below the node: the separator its parent
	// searches by. Replacing an instance keeps its key, so only insertions
	// and deletions at the front of a node move it.
	min InstanceKey
}

func (t *tnode) leaf() bool { return t.kids == nil }

// width is the number of entries of the node.
func (t *tnode) width() int {
	if t.leaf() {
		return len(t.items)
	}
	return len(t.kids)
}

func (t *tnode) size() int {
	if t == nil {
		return 0
	}
	return t.n
}

// buildTree returns the tree of list, sorted by ID, in full leaves.
func buildTree(list []*Instance) *tnode {
	if len(list) == 0 {
		return nil
	}
	level := make([]*tnode, 0, (len(list)+treeFan-1)/treeFan)
	for i := 0; i < len(list); i += treeFan {
		items := slices.Clone(list[i:min(i+treeFan, len(list))])
		level = append(level, &tnode{items: items, n: len(items), min: items[0].Key()})
	}
	for len(level) > 1 {
		up := make([]*tnode, 0, (len(level)+treeFan-1)/treeFan)
		for i := 0; i < len(level); i += treeFan {
			up = append(up, newInner(slices.Clone(level[i:min(i+treeFan, len(level))])))
		}
		level = up
	}
	return level[0]
}

func newInner(kids []*tnode) *tnode {
	t := &tnode{kids: kids, min: kids[0].min}
	for _, k := range kids {
		t.n += k.n
	}
	return t
}

// compareInstanceKey orders in by its key against k.
func compareInstanceKey(in *Instance, k InstanceKey) int {
	return compareKey(in.IP, in.Port, in.Cluster, k)
}

func newLeaf(items []*Instance) *tnode {
	return &tnode{items: items, n: len(items), min: items[0].Key()}
}

// appendTo appends the instances of t in order.
func (t *tnode) appendTo(dst []*Instance) []*Instance {
	if t == nil {
		return dst
	}
	if t.leaf() {
		return append(dst, t.items...)
	}
	for _, k := range t.kids {
		dst = k.appendTo(dst)
	}
	return dst
}

// each calls yield with the instances of t in order until it returns false.
func (t *tnode) each(yield func(*Instance) bool) bool {
	if t == nil {
		return true
	}
	if t.leaf() {
		for _, in := range t.items {
			if !yield(in) {
				return false
			}
		}
		return true
	}
	for _, k := range t.kids {
		if !k.each(yield) {
			return false
		}
	}
	return true
}

// kidFor returns the index of the kid whose range holds k.
func (t *tnode) kidFor(k InstanceKey) int {
	// The last kid whose min is at most k.
	lo, hi := 1, len(t.kids)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if mk := &t.kids[m].min; compareKey(mk.IP, mk.Port, mk.Cluster, k) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// get returns the instance of key k, or nil.
func (t *tnode) get(k InstanceKey) *Instance {
	if t == nil {
		return nil
	}
	for !t.leaf() {
		t = t.kids[t.kidFor(k)]
	}
	return search(t.items, k)
}

// set returns a tree with in added, or replacing the instance of the same
// ID (returned as prev). t is not modified.
func (t *tnode) set(in *Instance) (root *tnode, prev *Instance) {
	if t == nil {
		return newLeaf([]*Instance{in}), nil
	}
	nt, split, prev := t.setIn(in)
	if split != nil {
		return newInner([]*tnode{nt, split}), prev
	}
	return nt, prev
}

// setIn is set below the root: it returns the node's new version and, when
// that overflowed, the right half split off it.
func (t *tnode) setIn(in *Instance) (nt, split *tnode, prev *Instance) {
	if t.leaf() {
		i, found := slices.BinarySearchFunc(t.items, in.Key(), compareInstanceKey)
		if found {
			items := slices.Clone(t.items)
			prev, items[i] = items[i], in
			return &tnode{items: items, n: t.n, min: t.min}, nil, prev
		}
		items := make([]*Instance, 0, len(t.items)+1)
		items = append(append(append(items, t.items[:i]...), in), t.items[i:]...)
		nt, split = splitLeaf(items)
		return nt, split, nil
	}
	i := t.kidFor(in.Key())
	kid, ksplit, prev := t.kids[i].setIn(in)
	kids := make([]*tnode, len(t.kids), len(t.kids)+1)
	copy(kids, t.kids)
	kids[i] = kid
	if ksplit != nil {
		kids = slices.Insert(kids, i+1, ksplit)
	}
	nt, split = splitInner(kids)
	return nt, split, prev
}

// replaceAll returns a tree with each instance of ins in place of the
// instance of the same key that t holds. ins is sorted by key, without
// repeats, and names only keys t holds. Each node on the way to the
// replaced instances is copied once, however many of them lie below it; t
// is not modified, and the shape (and so every separator) stays the same.
func (t *tnode) replaceAll(ins []*Instance) *tnode {
	if len(ins) == 0 {
		return t
	}
	if t.leaf() {
		items := slices.Clone(t.items)
		from := 0
		for _, in := range ins {
			i, _ := slices.BinarySearchFunc(items[from:], in.Key(), compareInstanceKey)
			items[from+i] = in
			from += i + 1
		}
		return &tnode{items: items, n: t.n, min: t.min}
	}
	kids := slices.Clone(t.kids)
	for lo := 0; lo < len(ins); {
		k := t.kidFor(ins[lo].Key())
		hi := lo + 1
		for hi < len(ins) && (k+1 == len(t.kids) || compareInstanceKey(ins[hi], t.kids[k+1].min) < 0) {
			hi++
		}
		kids[k] = t.kids[k].replaceAll(ins[lo:hi])
		lo = hi
	}
	return &tnode{kids: kids, n: t.n, min: t.min}
}

func splitLeaf(items []*Instance) (left, right *tnode) {
	if len(items) <= treeFan {
		return newLeaf(items), nil
	}
	h := len(items) / 2
	return newLeaf(items[:h:h]), newLeaf(slices.Clone(items[h:]))
}

func splitInner(kids []*tnode) (left, right *tnode) {
	if len(kids) <= treeFan {
		return newInner(kids), nil
	}
	h := len(kids) / 2
	return newInner(kids[:h:h]), newInner(slices.Clone(kids[h:]))
}

// del returns a tree without the instance of key k, and that instance
// (nil, and t itself, when there is none).
func (t *tnode) del(k InstanceKey) (root *tnode, removed *Instance) {
	if t == nil {
		return nil, nil
	}
	nt, removed := t.delIn(k)
	switch {
	case removed == nil:
		return t, nil
	case nt == nil:
		return nil, removed
	case !nt.leaf() && len(nt.kids) == 1:
		return nt.kids[0], removed
	}
	return nt, removed
}

// delIn is del below the root; nt is nil when the node became empty.
func (t *tnode) delIn(k InstanceKey) (nt *tnode, removed *Instance) {
	if t.leaf() {
		i, found := slices.BinarySearchFunc(t.items, k, compareInstanceKey)
		if !found {
			return t, nil
		}
		if len(t.items) == 1 {
			return nil, t.items[0]
		}
		items := make([]*Instance, 0, len(t.items)-1)
		items = append(append(items, t.items[:i]...), t.items[i+1:]...)
		return newLeaf(items), t.items[i]
	}
	i := t.kidFor(k)
	kid, removed := t.kids[i].delIn(k)
	if removed == nil {
		return t, nil
	}
	kids := slices.Clone(t.kids)
	switch {
	case kid == nil:
		kids = slices.Delete(kids, i, i+1)
	case kid.width() < treeMin && len(kids) > 1:
		j := i + 1 // the neighbour it merges with
		if j == len(kids) {
			i, j = i-1, i
			kids[j] = kid
		} else {
			kids[i] = kid
		}
		left, right := mergeNodes(kids[i], kids[j])
		kids[i] = left
		if right != nil {
			kids[j] = right
		} else {
			kids = slices.Delete(kids, j, j+1)
		}
	default:
		kids[i] = kid
	}
	if len(kids) == 0 {
		return nil, removed
	}
	return newInner(kids), removed
}

// mergeNodes joins two neighbours of the same depth into one node, or two
// when their entries do not fit in one.
func mergeNodes(a, b *tnode) (left, right *tnode) {
	if a.leaf() {
		return splitLeaf(append(slices.Clone(a.items), b.items...))
	}
	return splitInner(append(slices.Clone(a.kids), b.kids...))
}

// diffTrees calls fn for each difference between two trees, as
// DiffInstances does for lists; subtrees both trees share are skipped
// without being read.
func diffTrees(a, b *tnode, fn func(old, new *Instance)) {
	if a == b {
		return
	}
	var before, after []*Instance
	collectDiff(a, b, &before, &after)
	DiffInstances(before, after, fn)
}

// collectDiff gathers the instances of the parts of a and b that are not
// shared nodes. When both are inner nodes of the same depth, kids held by
// both are skipped: what remains is the same set difference, since the
// kids of either are in ID order.
func collectDiff(a, b *tnode, before, after *[]*Instance) {
	if a == b {
		return
	}
	if a == nil || b == nil || a.leaf() || b.leaf() || depth(a) != depth(b) {
		*before = a.appendTo(*before)
		*after = b.appendTo(*after)
		return
	}
	shared := make(map[*tnode]bool, len(a.kids))
	for _, k := range a.kids {
		shared[k] = true
	}
	common := make(map[*tnode]bool, len(b.kids))
	for _, k := range b.kids {
		if shared[k] {
			common[k] = true
		}
	}
	var ra, rb []*tnode
	for _, k := range a.kids {
		if !common[k] {
			ra = append(ra, k)
		}
	}
	for _, k := range b.kids {
		if !common[k] {
			rb = append(rb, k)
		}
	}
	if len(ra) == 1 && len(rb) == 1 {
		collectDiff(ra[0], rb[0], before, after)
		return
	}
	for _, k := range ra {
		*before = k.appendTo(*before)
	}
	for _, k := range rb {
		*after = k.appendTo(*after)
	}
}

func depth(t *tnode) int {
	d := 0
	for ; !t.leaf(); t = t.kids[0] {
		d++
	}
	return d
}
