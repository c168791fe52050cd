package consensus

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"

	"sextant/naming"
)

var svcC = naming.NewServiceKey("", "", "ap-only")

// faultyLog wraps the log file and fails on demand.
type faultyLog struct {
	f         *os.File
	mu        sync.Mutex
	failWrite bool // write half the bytes, then fail
	failSync  bool
}

func (l *faultyLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failWrite {
		n, _ := l.f.Write(b[:len(b)/2])
		return n, errors.New("no space left on device")
	}
	return l.f.Write(b)
}

func (l *faultyLog) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failSync {
		return errors.New("input/output error")
	}
	return l.f.Sync()
}

func TestFailedWriteIsNotShownAndRefusesFurtherCPWrites(t *testing.T) {
	for _, mode := range []string{"write", "sync"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			s, cat := openStore(t, testConfig(dir))
			apply(t, s, createService(svcA, 0))
			apply(t, s, register(svcA, "10.0.0.1", false))
			apply(t, s, register(svcA, "10.0.0.5", true))
			apply(t, s, register(svcB, "10.0.1.5", true)) // MIXED: svcB is created durably
			apply(t, s, setSwitch("serverMode", "AP"))
			apply(t, s, register(svcC, "10.0.2.5", true)) // AP: svcC lives in memory only
			apply(t, s, setSwitch("serverMode", "MIXED"))
			before := persistentJSON(t, cat)
			size := s.wal.size

			fl := &faultyLog{f: s.wal.f, failWrite: mode == "write", failSync: mode == "sync"}
			s.wal.out = fl
			err := s.Apply(context.Background(), register(svcA, "10.0.0.2", false))
			if !errors.Is(err, naming.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable", err)
			}
			if find(cat, svcA, "10.0.0.2") != nil {
				t.Fatal("a write that was not stored is visible")
			}
			if got := persistentJSON(t, cat); got != before {
				t.Fatalf("catalog not restored:\n got %s\nwant %s", got, before)
			}
			if find(cat, svcA, "10.0.0.5") == nil || find(cat, svcB, "10.0.1.5") == nil || find(cat, svcC, "10.0.2.5") == nil {
				t.Fatal("ephemeral instances lost while restoring")
			}
			if fi, _ := os.Stat(logPath(dir)); fi.Size() != size {
				t.Fatalf("log not cut back: %d bytes, want %d", fi.Size(), size)
			}
			if s.Ready() == nil {
				t.Error("ready after the data directory failed")
			}
			// Further CP writes are refused, even once the disk is fine again.
			fl.mu.Lock()
			fl.failWrite, fl.failSync = false, false
			fl.mu.Unlock()
			if err := s.Apply(context.Background(), createService(naming.NewServiceKey("", "", "new"), 0)); !errors.Is(err, naming.ErrUnavailable) {
				t.Fatalf("CP write after failure: %v", err)
			}
			// Ephemeral data goes on.
			apply(t, s, register(svcA, "10.0.0.6", true))
			apply(t, s, naming.Op{Kind: naming.OpBeat, Service: svcA, Target: target("10.0.0.6")})
			if find(cat, svcA, "10.0.0.6") == nil {
				t.Fatal("ephemeral write refused after a log failure")
			}
			s.Close()

			// svcC lived in memory only, so it is gone after a restart.
			_, cat2 := openStore(t, testConfig(dir))
			if _, ok := cat2.Service(svcC); ok {
				t.Fatal("memory-only service stored")
			}
			if got := persistentJSON(t, cat2); got != before {
				t.Fatalf("after restart:\n got %s\nwant %s", got, before)
			}
		})
	}
}
