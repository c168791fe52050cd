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
