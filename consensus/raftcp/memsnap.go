package raftcp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/raft"
)

// memSnapshots keeps the latest complete snapshot in memory (InMemory
// mode). Unlike raft's InmemSnapshotStore it lists a snapshot only after
// its sink is closed, so a leader never ships a snapshot still being written.
type memSnapshots struct {
	mu     sync.Mutex
	seq    uint64
	latest *memSink // nil until the first snapshot completes
}

type memSink struct {
	store *memSnapshots
	meta  raft.SnapshotMeta
	buf   bytes.Buffer
	done  bool
}

var _ raft.SnapshotStore = (*memSnapshots)(nil)

func (m *memSnapshots) Create(version raft.SnapshotVersion, index, term uint64, c raft.Configuration, cIndex uint64, _ raft.Transport) (raft.SnapshotSink, error) {
	if version != 1 {
		return nil, fmt.Errorf("unsupported snapshot version %d", version)
	}
	m.mu.Lock()
	m.seq++
	id := fmt.Sprintf("%d-%d-%d", term, index, m.seq)
	m.mu.Unlock()
	return &memSink{store: m, meta: raft.SnapshotMeta{
		Version: version, ID: id, Index: index, Term: term, Configuration: c, ConfigurationIndex: cIndex,
	}}, nil
}

func (m *memSnapshots) List() ([]*raft.SnapshotMeta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.latest == nil {
		return nil, nil
	}
	meta := m.latest.meta
	return []*raft.SnapshotMeta{&meta}, nil
}

func (m *memSnapshots) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.latest == nil || m.latest.meta.ID != id {
		return nil, nil, fmt.Errorf("snapshot %s not found", id)
	}
	meta := m.latest.meta
	return &meta, io.NopCloser(bytes.NewReader(m.latest.buf.Bytes())), nil
}

func (s *memSink) Write(p []byte) (int, error) {
	if s.done {
		return 0, errors.New("snapshot sink is closed")
	}
	return s.buf.Write(p)
}

// Close publishes the snapshot as the latest.
func (s *memSink) Close() error {
	if s.done {
		return nil
	}
	s.done = true
	s.meta.Size = int64(s.buf.Len())
	s.store.mu.Lock()
	if s.store.latest == nil || s.store.latest.meta.Index <= s.meta.Index {
		s.store.latest = s
	}
	s.store.mu.Unlock()
	return nil
}

func (s *memSink) ID() string { return s.meta.ID }

func (s *memSink) Cancel() error {
	s.done = true
	return nil
}
