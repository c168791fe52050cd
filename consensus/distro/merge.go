package distro

import (
	"slices"

	"sextant/naming"
)

// version is one instance key's state in a record: a live instance (with
// its beat mark) or a tombstone.
type version struct {
	in   *naming.Instance // nil for a tombstone
	mark int64            // the instance's beat mark, 0 for none
	tomb int64
}

// time is a tombstone's time, or the later of an instance's last change
// and its beat mark: an instance whose responsible node saw a beat after a
// tombstone was decided is newer than that tombstone.
func (v version) time() int64 {
	if v.in != nil {
		return max(v.in.Updated, v.mark)
	}
	return v.tomb
}

// newer reports whether a wins over b. The later time wins; at equal
// times a tombstone beats an instance (a live client re-registers with its
// next beat, while a wrongly kept instance would linger until it expires);
// two instances of equal time are ordered by their content, then by mark.
func newer(a, b version) bool {
	if ta, tb := a.time(), b.time(); ta != tb {
		return ta > tb
	}
	if (a.in == nil) != (b.in == nil) {
		return a.in == nil
	}
	if a.in == nil {
		return false
	}
	if c := compareContent(a.in, b.in); c != 0 {
		return c > 0
	}
	return a.mark > b.mark
}

// Merge combines two records of the same service: for every instance key
// the newest version wins, whether it is an instance or a tombstone. It is
// a pure function and commutative, associative and idempotent, so nodes
// that exchange records in any order and any number of times agree. The
// result is sorted by instance key and lists each key once. The key is
// taken from a.
func Merge(a, b Record) Record {
	all := make([]keyed, 0, len(a.Instances)+len(a.Tombstones)+len(b.Instances)+len(b.Tombstones))
	for _, r := range [2]*Record{&a, &b} {
		marks := r.marks()
		for _, in := range r.Instances {
			if in != nil {
				all = append(all, keyed{in.Key(), version{in: in, mark: marks[in.Key()]}})
			}
		}
		for _, t := range r.Tombstones {
			all = append(all, keyed{t.Instance, version{tomb: t.Time}})
		}
	}
	// Sort by instance key, the winning version of each key first.
	slices.SortFunc(all, func(x, y keyed) int {
		if c := compareInstanceKey(x.key, y.key); c != 0 {
			return c
		}
		switch {
		case newer(x.v, y.v):
			return -1
		case newer(y.v, x.v):
			return 1
		}
		return 0
	})
	out := Record{Key: a.Key}
	for i, e := range all {
		if i > 0 && all[i-1].key == e.key {
			continue
		}
		if e.v.in != nil {
			out.Instances = append(out.Instances, e.v.in)
			if e.v.mark != 0 {
				out.Beats = append(out.Beats, BeatMark{Instance: e.key, Time: e.v.mark})
			}
		} else {
			out.Tombstones = append(out.Tombstones, Tombstone{Instance: e.key, Time: e.v.tomb})
		}
	}
	return out
}

type keyed struct {
	key naming.InstanceKey
	v   version
}
