package raftcp

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// A raft.db written with bolt's free-page list synced (bolt's default, as
// earlier builds wrote it) opens with boltOptions, and the other way round,
// with every log entry and stable value intact after a compaction.
func TestRaftDBOpensAcrossFreelistModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	synced := &bbolt.Options{Timeout: time.Second}
	open := func(o *bbolt.Options) *raftboltdb.BoltStore {
		t.Helper()
		s, err := raftboltdb.New(raftboltdb.Options{Path: path, BoltOptions: o})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	data := make([]byte, 3000)
	store := func(s *raftboltdb.BoltStore, from, to uint64) {
		t.Helper()
		for i := from; i <= to; i++ {
			if err := s.StoreLogs([]*raft.Log{{Index: i, Term: 1, Type: raft.LogCommand, Data: data}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(s *raftboltdb.BoltStore, first, last uint64) {
		t.Helper()
		if f, _ := s.FirstIndex(); f != first {
			t.Fatalf("first index %d, want %d", f, first)
		}
		if l, _ := s.LastIndex(); l != last {
			t.Fatalf("last index %d, want %d", l, last)
		}
		var got raft.Log
		for i := first; i <= last; i++ {
			if err := s.GetLog(i, &got); err != nil || got.Index != i || len(got.Data) != len(data) {
				t.Fatalf("entry %d: %v", i, err)
			}
		}
		if term, err := s.GetUint64([]byte("CurrentTerm")); err != nil || term != 7 {
			t.Fatalf("stable term %d, %v", term, err)
		}
	}

	s := open(synced)
	store(s, 1, 300)
	if err := s.SetUint64([]byte("CurrentTerm"), 7); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRange(1, 200); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(boltOptions())
	check(s, 201, 300)
	store(s, 301, 400)
	if err := s.DeleteRange(201, 250); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(synced)
	check(s, 251, 400)
	store(s, 401, 450)
	s.Close()

	s = open(boltOptions())
	defer s.Close()
	check(s, 251, 450)
}
