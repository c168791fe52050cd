package naming

// DiffInstances walks two instance lists of one service sorted by ID (as
// every view the Catalog publishes is; see CompareKeys) and calls fn for
// each difference: fn(old, nil) for an instance only in before, fn(nil,
// new) for one only in after, and fn(old, new) for the same key held by
// another value. Instances present
// in both as the same pointer are skipped, so following a change costs
// the length of the lists in pointer compares and fn only for what
// changed.
func DiffInstances(before, after []*Instance, fn func(old, new *Instance)) {
	i, j := 0, 0
	for i < len(before) || j < len(after) {
		switch {
		case i < len(before) && j < len(after) && before[i] == after[j]:
			i++
			j++
		case j == len(after) || i < len(before) && CompareKeys(before[i].Key(), after[j].Key()) < 0:
			fn(before[i], nil)
			i++
		case i == len(before) || CompareKeys(after[j].Key(), before[i].Key()) < 0:
			fn(nil, after[j])
			j++
		default:
			fn(before[i], after[j])
			i++
			j++
		}
	}
}

// DiffViews is DiffInstances over two views of one service, either of which
// may be nil (no instances). Two views the Catalog published are compared
// by their trees: the parts both share are skipped without being read, and
// neither instance list is built, so following one change in a large
// service costs about one path of its tree.
func DiffViews(before, after *Service, fn func(old, new *Instance)) {
	if (before == nil || before.lazy != nil) && (after == nil || after.lazy != nil) {
		diffTrees(treeOf(before), treeOf(after), fn)
		return
	}
	DiffInstances(listOf(before), listOf(after), fn)
}

func treeOf(s *Service) *tnode {
	if s == nil {
		return nil
	}
	return s.tree
}

func listOf(s *Service) []*Instance {
	if s == nil {
		return nil
	}
	return s.materialize().Instances
}
