package distro

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"

	"sextant/naming"
)

// Record is what Distro replicates for one service: its ephemeral
// instances, each stamped with the time of its last change
// (Instance.Updated), the beat marks of those instances, and tombstones of
// recent deregistrations.
type Record struct {
	Key        naming.ServiceKey  `json:"key"`
	Instances  []*naming.Instance `json:"instances"`
	Tombstones []Tombstone        `json:"tombstones,omitempty"`
	// Beats holds, for instances of this record, the last beat a
	// responsible node recorded (coarsely, see Config.BeatMarkInterval).
	// An instance's version is the later of its Updated and its mark, so a
	// copy whose owner kept seeing beats wins over an expiry decided on an
	// older beat. Marks of instances the record does not carry mean nothing.
	Beats []BeatMark `json:"beats,omitempty"`
}

// MarshalJSON writes r as its fields would be written, with each
// instance's ID: the catalog the instances come from keeps none, and
// records have always carried them.
func (r Record) MarshalJSON() ([]byte, error) {
	type plain Record
	p := plain(r)
	if slices.ContainsFunc(r.Instances, func(in *naming.Instance) bool { return in != nil && in.ID == "" }) {
		p.Instances = make([]*naming.Instance, len(r.Instances))
		for i, in := range r.Instances {
			if in != nil && in.ID == "" {
				c := *in
				c.ID = in.Key().ID(r.Key)
				in = &c
			}
			p.Instances[i] = in
		}
	}
	return json.Marshal(p)
}

// BeatMark is the last beat (Unix ms) a responsible node recorded for an
// instance.
type BeatMark struct {
	Instance naming.InstanceKey `json:"instance"`
	Time     int64              `json:"time"`
}

// markOf returns the mark of ik in r, 0 for none.
func (r *Record) markOf(ik naming.InstanceKey) int64 {
	for _, m := range r.Beats {
		if m.Instance == ik {
			return m.Time
		}
	}
	return 0
}

// marks returns r's beat marks by instance key; nil when there are none.
func (r *Record) marks() map[naming.InstanceKey]int64 {
	if len(r.Beats) == 0 {
		return nil
	}
	m := make(map[naming.InstanceKey]int64, len(r.Beats))
	for _, b := range r.Beats {
		if b.Time > m[b.Instance] {
			m[b.Instance] = b.Time
		}
	}
	return m
}

// Tombstone remembers that an instance was deregistered at Time (Unix ms).
type Tombstone struct {
	Instance naming.InstanceKey `json:"instance"`
	Time     int64              `json:"time"`
}

// Empty reports whether the record holds neither instances nor tombstones.
func (r Record) Empty() bool { return len(r.Instances) == 0 && len(r.Tombstones) == 0 }

func compareInstanceKey(a, b naming.InstanceKey) int {
	if c := cmp.Compare(a.IP, b.IP); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Port, b.Port); c != 0 {
		return c
	}
	return cmp.Compare(a.Cluster, b.Cluster)
}

// compareContent orders two versions of one instance by every replicated
// field, so that ties in Updated are broken the same way on every node.
func compareContent(a, b *naming.Instance) int {
	return slices.Compare(canonical(a), canonical(b))
}

// canonical renders every replicated field of an instance in a fixed order.
func canonical(in *naming.Instance) []byte {
	b := make([]byte, 0, 96)
	b = append(b, in.IP...)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(in.Port), 10)
	b = append(b, 0)
	b = append(b, in.Cluster...)
	b = append(b, 0)
	b = strconv.AppendInt(b, in.Updated, 10)
	b = append(b, 0)
	b = strconv.AppendFloat(b, in.Weight, 'g', -1, 64)
	b = append(b, 0)
	b = strconv.AppendBool(b, in.Healthy)
	b = strconv.AppendBool(b, in.Enabled)
	b = strconv.AppendBool(b, in.Ephemeral)
	b = append(b, 0)
	keys := make([]string, 0, len(in.Metadata))
	for k := range in.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = strconv.AppendQuote(b, k)
		b = append(b, '=')
		b = strconv.AppendQuote(b, in.Metadata[k])
		b = append(b, ',')
	}
	b = append(b, 0)
	b = strconv.AppendInt(b, in.Check.Time, 10)
	b = append(b, 0)
	b = append(b, in.Check.Reason...)
	return b
}

// ephemeralOf returns the ephemeral instances of a service view, sorted by
// instance key.
func ephemeralOf(s *naming.Service) []*naming.Instance {
	if s == nil {
		return nil
	}
	var out []*naming.Instance
	for in := range s.All() {
		if in.Ephemeral {
			out = append(out, in)
		}
	}
	slices.SortFunc(out, func(a, b *naming.Instance) int { return compareInstanceKey(a.Key(), b.Key()) })
	return out
}

// sumOf is the checksum verify compares: the catalog's digest of the
// ephemeral instances, or "" when there are none.
func sumOf(s *naming.Service) string {
	if s == nil {
		return ""
	}
	for in := range s.All() {
		if in.Ephemeral {
			return s.EphemeralChecksum
		}
	}
	return ""
}
