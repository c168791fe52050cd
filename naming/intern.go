package naming

import (
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"unique"
)

// Limits of the table of shared metadata maps: only small maps are shared,
// and the table is emptied when it is full, so it never holds more than
// about maxSharedMaps × (maxSharedBytes + map overhead) bytes.
const (
	maxSharedMaps  = 4096
	maxSharedBytes = 512
	maxSharedKeys  = 16
)

// sharedMaps lets instances whose metadata are equal share one map: most
// instances of a service carry the same few entries, and a small map costs
// far more than the strings it holds. Maps in the table are immutable, as
// every instance's metadata is. Its own lock guards it.
type sharedMaps struct {
	mu   sync.Mutex // writers of different services own instances at once
	m    map[string]map[string]string
	keys []string // scratch
	buf  []byte   // scratch
}

// share returns a map equal to md that the catalog owns and may share
// with other instances: one from the table when it holds an equal map,
// else a copy (added to the table when small). md itself is only read; nil
// gives an empty map.
func (t *sharedMaps) share(md map[string]string) map[string]string {
	if len(md) > maxSharedKeys {
		return copyMetadata(md)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.keys = t.keys[:0]
	n := 0
	for k, v := range md {
		t.keys = append(t.keys, k)
		n += len(k) + len(v)
	}
	if n > maxSharedBytes {
		return copyMetadata(md)
	}
	slices.Sort(t.keys)
	b := t.buf[:0]
	for _, k := range t.keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		v := md[k]
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	t.buf = b
	if s, ok := t.m[string(b)]; ok {
		return s
	}
	if t.m == nil || len(t.m) >= maxSharedMaps {
		t.m = make(map[string]map[string]string)
	}
	s := copyMetadata(md)
	t.m[string(b)] = s
	return s
}

// copyMetadata copies md with interned keys (keys repeat across instances
// even when values differ) and values that share no memory with md's.
func copyMetadata(md map[string]string) map[string]string {
	out := make(map[string]string, len(md))
	for k, v := range md {
		out[intern(k)] = strings.Clone(v)
	}
	return out
}

// intern returns a canonical copy of s, shared by every equal string that
// is interned; for the few distinct names a registry holds many times
// (namespaces, groups, clusters, check reasons).
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

// internKey returns key with strings that do not keep alive the buffer of
// the request they were read from.
func internKey(key ServiceKey) ServiceKey {
	return ServiceKey{Namespace: intern(key.Namespace), Group: intern(key.Group), Name: strings.Clone(key.Name)}
}

// own makes a newly built instance ready to be published: its address
// becomes a string of its own and its cluster the shared one (neither
// pointing into a request), its ID is dropped (readers derive it from the
// key and the service), and its metadata are shared with equal instances.
// The instance must not be visible to readers yet.
func (t *sharedMaps) own(in *Instance) {
	in.owned = true
	in.Metadata = t.share(in.Metadata)
	if in.Check.Reason != "" {
		in.Check.Reason = intern(in.Check.Reason)
	}
	in.ID = ""
	in.IP, in.Cluster = strings.Clone(in.IP), intern(in.Cluster)
}
