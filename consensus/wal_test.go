package consensus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sextant/naming"
)

// logWithRecords writes n persistent registrations and returns the data dir,
// the expected CP state and the size of the log after each record.
func logWithRecords(t *testing.T, n int) (dir, want string, ends []int64) {
	t.Helper()
	dir = t.TempDir()
	s, cat := openStore(t, testConfig(dir))
	for i := 0; i < n; i++ {
		apply(t, s, register(svcA, "10.0.0."+string(rune('1'+i)), false))
		ends = append(ends, s.wal.size)
	}
	want = persistentJSON(t, cat)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, want, ends
}

func logPath(dir string) string { return filepath.Join(dir, logName) }

func TestTornTailIsCutOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		// damage changes the log after the third record; it gets the log's bytes
		// and the offset where the third record starts.
		damage func(b []byte, third int64) []byte
	}{
		{"half a header", func(b []byte, third int64) []byte { return b[:third+3] }},
		{"header without payload", func(b []byte, third int64) []byte { return b[:third+recordHeader] }},
		{"half a payload", func(b []byte, third int64) []byte { return b[:len(b)-10] }},
		{"bad checksum on the last record", func(b []byte, third int64) []byte { b[len(b)-2] ^= 0xff; return b }},
		{"zeros after the last record", func(b []byte, third int64) []byte { return append(b, make([]byte, 4096)...) }},
		{"zeros over the last record", func(b []byte, third int64) []byte {
			return append(b[:third], make([]byte, int64(len(b))-third)...)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _, ends := logWithRecords(t, 3)
			b, err := os.ReadFile(logPath(dir))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(logPath(dir), tc.damage(b, ends[1]), 0o640); err != nil {
				t.Fatal(err)
			}
			log, hook := capturingLog()
			cat := naming.NewCatalog()
			s, err := NewStandalone(testConfig(dir), cat, log)
			if err != nil {
				t.Fatalf("torn tail not repaired: %v", err)
			}
			defer s.Close()
			warned := false
			for _, e := range hook.AllEntries() {
				warned = warned || strings.Contains(e.Message, "torn")
			}
			if !warned && tc.name != "zeros after the last record" {
				t.Error("no log line about the torn record")
			}
			sv, _ := cat.Service(svcA)
			wantN := 2
			if tc.name == "zeros after the last record" {
				wantN = 3
			}
			if sv == nil || len(sv.Instances) != wantN {
				t.Fatalf("want %d instances, got %+v", wantN, sv)
			}
			if fi, _ := os.Stat(logPath(dir)); fi.Size() != ends[wantN-1] {
				t.Fatalf("log is %d bytes, want %d", fi.Size(), ends[wantN-1])
			}
			// Appends continue cleanly after the cut, and survive a restart.
			s.Start(t.Context())
			apply(t, s, register(svcB, "10.0.1.1", false))
			want := persistentJSON(t, cat)
			s.Close()
			_, cat2 := openStore(t, testConfig(dir))
			if got := persistentJSON(t, cat2); got != want {
				t.Fatalf("after repair and restart:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestCorruptionInTheMiddleIsAnError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(b []byte, first, second int64)
	}{
		{"flipped payload byte", func(b []byte, first, second int64) { b[first+recordHeader+3] ^= 0x01 }},
		{"zero length", func(b []byte, first, second int64) { binary.LittleEndian.PutUint32(b[first:], 0) }},
		{"huge length", func(b []byte, first, second int64) { binary.LittleEndian.PutUint32(b[first:], maxRecordBytes+1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _, ends := logWithRecords(t, 3)
			b, _ := os.ReadFile(logPath(dir))
			tc.damage(b, ends[0], ends[1])
			os.WriteFile(logPath(dir), b, 0o640)
			_, err := NewStandalone(testConfig(dir), naming.NewCatalog(), quietLog())
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("got %v, want a corruption error", err)
			}
			// Nothing was cut: the file is left for inspection.
			if after, _ := os.ReadFile(logPath(dir)); !bytes.Equal(after, b) {
				t.Fatal("a corrupt log was modified")
			}
		})
	}
}

func TestUnreadableSnapshotIsAnError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, snapshotName), []byte(`{"version":1,"seq":`), 0o640)
	if _, err := NewStandalone(testConfig(dir), naming.NewCatalog(), nil); err == nil {
		t.Fatal("truncated snapshot accepted")
	}
	os.WriteFile(filepath.Join(dir, snapshotName), []byte(`{"version":9,"seq":1}`), 0o640)
	if _, err := NewStandalone(testConfig(dir), naming.NewCatalog(), nil); err == nil {
		t.Fatal("unknown snapshot version accepted")
	}
}

func TestCompactionThenRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.SnapshotEvery = 5
	s, cat := openStore(t, cfg)
	fillState(t, s) // 15 ops, some ephemeral: at least two compactions
	apply(t, s, register(svcB, "10.0.1.2", false))
	if _, err := os.Stat(filepath.Join(dir, snapshotName)); err != nil {
		t.Fatalf("no snapshot after compaction: %v", err)
	}
	if s.records >= cfg.SnapshotEvery {
		t.Fatalf("log holds %d records, compaction is every %d", s.records, cfg.SnapshotEvery)
	}
	if _, err := os.Stat(filepath.Join(dir, snapshotTemp)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("temporary snapshot left behind")
	}
	want := persistentJSON(t, cat)
	s.Close()
	_, cat2 := openStore(t, testConfig(dir))
	if got := persistentJSON(t, cat2); got != want {
		t.Fatalf("after compaction and restart:\n got %s\nwant %s", got, want)
	}
}

// A crash after the snapshot was renamed into place but before the log was
// emptied leaves records the snapshot already holds; they must not be
// applied twice.
func TestCrashBetweenSnapshotAndLogCut(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.SnapshotEvery = 4
	s, cat := openStore(t, cfg)
	apply(t, s, createService(svcA, 0.2))
	apply(t, s, register(svcA, "10.0.0.1", false))
	apply(t, s, naming.Op{Kind: naming.OpCreateNamespace, Namespace: &naming.Namespace{ID: "dev"}})
	old, _ := os.ReadFile(logPath(dir))
	apply(t, s, register(svcA, "10.0.0.2", false)) // fourth record: compaction
	if s.records != 0 {
		t.Fatalf("no compaction: %d records", s.records)
	}
	apply(t, s, register(svcA, "10.0.0.3", false)) // after the snapshot
	want := persistentJSON(t, cat)
	after, _ := os.ReadFile(logPath(dir))
	s.Close()

	// The log as if the cut never happened: the old records, the fourth, then the fifth.
	oldFull := append(append([]byte(nil), old...), recordsFor(t, 4, register(svcA, "10.0.0.2", false))...)
	os.WriteFile(logPath(dir), append(oldFull, after[walHeaderSize:]...), 0o640)
	_, cat2 := openStore(t, testConfig(dir))
	if got := persistentJSON(t, cat2); got != want {
		t.Fatalf("records replayed twice:\n got %s\nwant %s", got, want)
	}
}

// recordsFor frames op as record seq.
func recordsFor(t *testing.T, seq uint64, op naming.Op) []byte {
	t.Helper()
	op.Time = 1
	body, err := jsonMarshal(op)
	if err != nil {
		t.Fatal(err)
	}
	return appendRecord(nil, castagnoli(), seq, body)
}

func TestGapAfterSnapshotIsAnError(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.SnapshotEvery = 2
	s, _ := openStore(t, cfg)
	apply(t, s, createService(svcA, 0))
	apply(t, s, register(svcA, "10.0.0.1", false)) // compaction at seq 2
	s.Close()
	os.WriteFile(logPath(dir), recordsFor(t, 4, register(svcA, "10.0.0.2", false)), 0o640)
	if _, err := NewStandalone(testConfig(dir), naming.NewCatalog(), nil); !errors.Is(err, errCorrupt) {
		t.Fatalf("a missing record went unnoticed: %v", err)
	}
}

// setSyncedOffset rewrites the log header's synced offset, as a crash
// leaves it when the records after off were written and not yet synced.
func setSyncedOffset(t *testing.T, dir string, off int64) {
	t.Helper()
	w, err := openWAL(logPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	if w.base == 0 {
		t.Fatal("the log has no header")
	}
	if err := w.markSynced(off); err != nil {
		t.Fatal(err)
	}
}

// Pages of one group commit reach the disk in any order, so a crash can
// leave a hole in the unsynced tail with whole records after it. Nothing
// there was acknowledged: the node cuts it off and starts.
func TestHoleInUnsyncedTailIsCutOff(t *testing.T) {
	dir, _, ends := logWithRecords(t, 5)
	b, err := os.ReadFile(logPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	// Records 1 and 2 were synced; 3 to 5 were written, and a page of
	// record 3 never reached the disk.
	hole := ends[1] + recordHeader + 4
	copy(b[hole:hole+16], make([]byte, 16))
	if err := os.WriteFile(logPath(dir), b, 0o640); err != nil {
		t.Fatal(err)
	}
	setSyncedOffset(t, dir, ends[1])
	log, hook := capturingLog()
	cat := naming.NewCatalog()
	s, err := NewStandalone(testConfig(dir), cat, log)
	if err != nil {
		t.Fatalf("a hole after the synced offset stopped the start: %v", err)
	}
	defer s.Close()
	if sv, _ := cat.Service(svcA); sv == nil || len(sv.Instances) != 2 {
		t.Fatalf("want the 2 synced records, got %+v", sv)
	}
	if fi, _ := os.Stat(logPath(dir)); fi.Size() != ends[1] {
		t.Fatalf("log is %d bytes, want %d", fi.Size(), ends[1])
	}
	warned := false
	for _, e := range hook.AllEntries() {
		warned = warned || strings.Contains(e.Message, "torn")
	}
	if !warned {
		t.Error("no log line about the cut")
	}
	// The same hole before the synced offset is damage to acknowledged
	// writes: the node refuses to start and leaves the file as it is.
	s.Close()
	dir2, _, ends2 := logWithRecords(t, 5)
	b2, _ := os.ReadFile(logPath(dir2))
	hole = ends2[1] + recordHeader + 4
	copy(b2[hole:hole+16], make([]byte, 16))
	os.WriteFile(logPath(dir2), b2, 0o640)
	setSyncedOffset(t, dir2, ends2[3])
	b2, _ = os.ReadFile(logPath(dir2))
	if _, err := NewStandalone(testConfig(dir2), naming.NewCatalog(), quietLog()); !errors.Is(err, errCorrupt) {
		t.Fatalf("damage before the synced offset: %v, want a corruption error", err)
	}
	if after, _ := os.ReadFile(logPath(dir2)); !bytes.Equal(after, b2) {
		t.Fatal("a corrupt log was modified")
	}
}
