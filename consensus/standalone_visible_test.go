package consensus

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sextant/naming"
)

// gatedLog holds every fsync until the test opens the gate.
type gatedLog struct {
	f       *os.File
	gate    chan struct{}
	waiting atomic.Int32
}

func (l *gatedLog) Write(b []byte) (int, error) { return l.f.Write(b) }

func (l *gatedLog) Sync() error {
	l.waiting.Add(1)
	<-l.gate
	return l.f.Sync()
}

// A CP write is shown to readers (and listeners) only once its record is on
// disk: while the fsync is held, nobody sees it.
func TestCPWriteVisibleOnlyAfterFsync(t *testing.T) {
	s, cat := openStore(t, testConfig(t.TempDir()))
	apply(t, s, createService(svcA, 0))
	gl := &gatedLog{f: s.wal.f, gate: make(chan struct{})}
	s.wal.out = gl
	var once sync.Once
	open := func() { once.Do(func() { close(gl.gate) }) }
	t.Cleanup(open) // before Close, which would wait for the held fsync
	var heard atomic.Int32
	cancel := cat.Watch(func(k naming.ServiceKey) {
		if k == svcA {
			heard.Add(1)
		}
	})
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Apply(context.Background(), register(svcA, "10.0.0.1", false)) }()
	deadline := time.Now().Add(5 * time.Second)
	for gl.waiting.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the write never reached its fsync")
		}
		time.Sleep(time.Millisecond)
	}
	// The record is written, its fsync is not done.
	if find(cat, svcA, "10.0.0.1") != nil || heard.Load() != 0 {
		t.Fatal("a CP write is visible before its record is on disk")
	}
	// An ephemeral write meanwhile is not held up.
	apply(t, s, register(svcA, "10.0.1.1", true))
	if find(cat, svcA, "10.0.1.1") == nil {
		t.Fatal("an ephemeral write waited for another write's fsync")
	}
	select {
	case err := <-done:
		t.Fatalf("acknowledged before its fsync: %v", err)
	default:
	}
	open()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if find(cat, svcA, "10.0.0.1") == nil || heard.Load() == 0 {
		t.Fatal("the stored write is not visible after the acknowledgement")
	}
}
