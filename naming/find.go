package naming

import (
	"strconv"
	"strings"
)

// compareIDPort compares id with k.ID(svc) ("ip#port#cluster#group@@name")
// as strings.Compare would, without building the second string; port is
// k.Port in decimal.
func compareIDPort(id string, k InstanceKey, port []byte, svc ServiceKey) int {
	rest := id
	if c := cmpPart(&rest, k.IP); c != 0 {
		return c
	}
	if c := cmpPart(&rest, "#"); c != 0 {
		return c
	}
	if c := cmpBytesPart(&rest, port); c != 0 {
		return c
	}
	if c := cmpPart(&rest, "#"); c != 0 {
		return c
	}
	if c := cmpPart(&rest, k.Cluster); c != 0 {
		return c
	}
	if c := cmpPart(&rest, "#"); c != 0 {
		return c
	}
	if c := cmpPart(&rest, svc.Group); c != 0 {
		return c
	}
	if c := cmpPart(&rest, GroupSeparator); c != 0 {
		return c
	}
	if c := cmpPart(&rest, svc.Name); c != 0 {
		return c
	}
	if rest != "" {
		return 1
	}
	return 0
}

// cmpPart compares the start of *rest with p and, when *rest starts with p,
// advances *rest past it and returns 0.
func cmpPart(rest *string, p string) int {
	r := *rest
	if len(r) < len(p) {
		if c := strings.Compare(r, p[:len(r)]); c != 0 {
			return c
		}
		return -1 // r is a proper prefix of p
	}
	if c := strings.Compare(r[:len(p)], p); c != 0 {
		return c
	}
	*rest = r[len(p):]
	return 0
}

func cmpBytesPart(rest *string, p []byte) int {
	r := *rest
	for i, b := range p {
		if i == len(r) {
			return -1
		}
		if r[i] != b {
			if r[i] < b {
				return -1
			}
			return 1
		}
	}
	*rest = r[len(p):]
	return 0
}

// searchScanMax is the list length up to which a scan beats the search.
const searchScanMax = 16

// search returns the instance with key k in the sorted list, or nil.
func search(list []*Instance, k InstanceKey, svc ServiceKey) *Instance {
	if len(list) <= searchScanMax {
		for _, in := range list {
			if in.Port == k.Port && in.IP == k.IP && in.Cluster == k.Cluster {
				return in
			}
		}
		return nil
	}
	var pbuf [20]byte
	port := strconv.AppendInt(pbuf[:0], int64(k.Port), 10)
	lo, hi := 0, len(list)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if compareIDPort(list[m].ID, k, port, svc) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for i := lo; i < len(list) && compareIDPort(list[i].ID, k, port, svc) == 0; i++ {
		if in := list[i]; in.Port == k.Port && in.IP == k.IP && in.Cluster == k.Cluster {
			return in
		}
	}
	return nil
}
