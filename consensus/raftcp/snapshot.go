package raftcp

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/hashicorp/raft"

	"sextant/naming"
)

// snapshotVersion marks the snapshot document's format.
const snapshotVersion = 1

// snapshotDoc is what a snapshot holds: one JSON document with the format
// version, the time of the last applied op and the catalog's persistent
// state (namespaces, switches, services with their persistent instances).
type snapshotDoc struct {
	Version int                    `json:"version"`
	Time    int64                  `json:"time"`
	State   naming.PersistentState `json:"state"`
}

type fsmSnapshot struct {
	doc snapshotDoc
}

// Persist writes the document to the sink; on any error it cancels the sink
// so raft keeps the previous snapshot.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	sortState(&s.doc.State)
	if err := json.NewEncoder(sink).Encode(&s.doc); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("raftcp: write snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}

// sortState orders the state so equal catalogs give equal snapshot bytes.
func sortState(st *naming.PersistentState) {
	sort.Slice(st.Namespaces, func(i, j int) bool { return st.Namespaces[i].ID < st.Namespaces[j].ID })
	sort.Slice(st.Services, func(i, j int) bool { return st.Services[i].Key.String() < st.Services[j].Key.String() })
}

// readSnapshot decodes and checks a snapshot document. Entries a restore
// could not use (nil instances) are dropped rather than trusted.
func readSnapshot(r io.Reader) (snapshotDoc, error) {
	var doc snapshotDoc
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return doc, fmt.Errorf("raftcp: decode snapshot: %w", err)
	}
	if doc.Version != snapshotVersion {
		return doc, fmt.Errorf("raftcp: unknown snapshot version %d", doc.Version)
	}
	for i := range doc.State.Services {
		ps := &doc.State.Services[i]
		kept := ps.Instances[:0]
		for _, in := range ps.Instances {
			if in != nil {
				kept = append(kept, in)
			}
		}
		ps.Instances = kept
	}
	return doc, nil
}
