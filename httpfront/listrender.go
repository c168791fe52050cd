package httpfront

import (
	"encoding/json"
	"iter"
	"slices"

	"sextant/naming"
)

// An instance/list body is its head fields, the hosts and its tail fields.
// Each host is encoded once per instance and kept (a fragment): instances
// are immutable once the catalog publishes them, so a fragment found for
// the same *naming.Instance is still exact, and a body rendered after one
// instance changed encodes that instance and copies the others. Each part
// is encoded by encoding/json, so the body is byte for byte what encoding
// the whole listJSON would give.

// listHeadJSON is the part of listJSON before the hosts.
type listHeadJSON struct {
	Name        string `json:"name"`
	Dom         string `json:"dom"`
	Clusters    string `json:"clusters"`
	CacheMillis int64  `json:"cacheMillis"`
}

// listTailJSON is the part of listJSON after the hosts.
type listTailJSON struct {
	Checksum                 string            `json:"checksum"`
	UseSpecifiedURL          bool              `json:"useSpecifiedURL"`
	Env                      string            `json:"env"`
	Metadata                 map[string]string `json:"metadata"`
	ReachProtectionThreshold bool              `json:"reachProtectionThreshold"`
	AllIPs                   bool              `json:"allIPs"`
	Valid                    bool              `json:"valid"`
}

// fragKey names the fragments of one service as one flavour of client
// names it (bare or grouped serviceName), with or without the protect
// threshold's override that shows every host healthy.
type fragKey struct {
	key       naming.ServiceKey
	grouped   bool
	protected bool
}

// fragSet is the encoded hosts of one view of a service, one per instance
// of ins (the view's Instances) at the same index. Never modified once
// built.
type fragSet struct {
	rev       uint64
	key       naming.ServiceKey
	name      string // each host's serviceName
	protected bool
	ins       []*naming.Instance
	frags     [][]byte
	size      int64 // what the set counts against the cache's byte bound
}

// fragOverhead is what a set counts beyond its fragments: the slice of
// fragments and the set itself.
const (
	fragOverhead    = 96
	fragPerInstance = 24
)

// covers reports whether fs follows exactly the instances list.
func (fs *fragSet) covers(list []*naming.Instance) bool {
	return len(fs.ins) == len(list) && (len(list) == 0 || &fs.ins[0] == &list[0])
}

// buildFrags encodes the hosts of svc for k, taking the fragment of every
// instance prev (may be nil) holds already. Views the catalog publishes are
// sorted by instance id, so one pass over both lists finds them; on any
// other order it encodes more, never wrongly.
func buildFrags(prev *fragSet, svc *naming.Service, k fragKey) *fragSet {
	name := k.key.Name
	if k.grouped {
		name = k.key.Grouped()
	}
	fs := &fragSet{rev: svc.Revision, key: k.key, name: name, protected: k.protected,
		ins: svc.Instances, frags: make([][]byte, len(svc.Instances))}
	fs.size = fragOverhead + int64(fragPerInstance*len(svc.Instances))
	var old []*naming.Instance
	if prev != nil {
		old = prev.ins
	}
	j := 0
	for i, in := range svc.Instances {
		for j < len(old) && old[j] != in && naming.CompareKeys(old[j].Key(), in.Key()) < 0 {
			j++
		}
		if j < len(old) && old[j] == in {
			fs.frags[i] = prev.frags[j]
			j++
		} else {
			fs.frags[i] = fs.encode(in)
		}
		fs.size += int64(len(fs.frags[i]))
	}
	return fs
}

// encode is in as a host of this set, as encoding/json writes it.
func (fs *fragSet) encode(in *naming.Instance) []byte {
	var scratch [512]byte
	return slices.Clip(append([]byte(nil), appendHost(scratch[:0], in, fs.key, fs.name, in.Healthy || fs.protected)...))
}

// renderList encodes the list of svc (nil for an unknown service) for v,
// up to and including `"lastRefTime":`, with the fragments frags gives
// for the selection's flavour.
func renderList(svc *naming.Service, v listView, frags func(*naming.Service, fragKey) *fragSet) []byte {
	grouped := v.flavour == flavourGrouped
	bare := v.key.Name
	if grouped {
		bare = v.key.Grouped()
	}
	head, err := json.Marshal(listHeadJSON{Name: v.key.Grouped(), Dom: bare, Clusters: v.clusters, CacheMillis: v.cacheMillis})
	if err != nil { // cannot happen: only strings and numbers
		head = []byte(`{"name":""}`)
	}
	tail := listTailJSON{Env: v.env, Metadata: map[string]string{}, Valid: true}
	var sel naming.Selection
	var fs *fragSet
	if svc != nil {
		sel = svc.Select(clusterList(v.clusters), v.healthyOnly)
		tail.ReachProtectionThreshold = sel.Protected
		tail.Checksum = svc.Checksum
		tail.Metadata = emptyIfNil(svc.Meta.Metadata)
		if len(sel.Instances) > 0 {
			fs = frags(svc, fragKey{key: v.key, grouped: grouped, protected: sel.Protected})
		}
	}
	tb, err := json.Marshal(tail)
	if err != nil { // cannot happen: only strings, booleans and a string map
		tb = []byte(`{"valid":true}`)
	}
	size := len(head) + len(`,"hosts":[],`) + len(tb) + len(`,"lastRefTime":`) + len(sel.Instances)
	for h := range fs.pick(sel.Instances) {
		size += len(h)
	}
	out := make([]byte, 0, size)
	out = append(out, head[:len(head)-1]...)
	out = append(out, `,"hosts":[`...)
	first := true
	for h := range fs.pick(sel.Instances) {
		if !first {
			out = append(out, ',')
		}
		out, first = append(out, h...), false
	}
	out = append(out, "],"...)
	out = append(out, tb[1:len(tb)-1]...)
	return append(out, `,"lastRefTime":`...)
}

// pick yields the fragment of each of sel, a subsequence (in order) of the
// instances fs follows, as a selection of the same view is; an instance
// not found there is encoded on its own.
func (fs *fragSet) pick(sel []*naming.Instance) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		j := 0
		for _, in := range sel {
			k := j
			for k < len(fs.ins) && fs.ins[k] != in {
				k++
			}
			var h []byte
			if k < len(fs.ins) {
				h, j = fs.frags[k], k+1
			} else {
				h = fs.encode(in)
			}
			if !yield(h) {
				return
			}
		}
	}
}
