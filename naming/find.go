package naming

import "slices"

// searchScanMax is the list length up to which a scan beats the search.
const searchScanMax = 16

// search returns the instance with key k in the sorted list, or nil.
func search(list []*Instance, k InstanceKey) *Instance {
	if len(list) <= searchScanMax {
		for _, in := range list {
			if in.Port == k.Port && in.IP == k.IP && in.Cluster == k.Cluster {
				return in
			}
		}
		return nil
	}
	i, found := slices.BinarySearchFunc(list, k, compareInstanceKey)
	if !found {
		return nil
	}
	return list[i]
}
