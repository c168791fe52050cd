package naming

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
	lo, hi := 0, len(list)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if compareInstanceKey(list[m], k) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(list) && list[lo].Port == k.Port && list[lo].IP == k.IP && list[lo].Cluster == k.Cluster {
		return list[lo]
	}
	return nil
}
