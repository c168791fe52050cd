package cluster

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

// fakeTransport answers reports with whatever fail says for the peer.
type fakeTransport struct {
	mu    sync.Mutex
	fail  map[string]error
	calls map[string]int
	// back, when set, gets a report from every peer that took one of
	// its reports, as live members send theirs.
	back *Membership
}

func newFakeTransport() *fakeTransport {
	return &fakeTransport{fail: map[string]error{}, calls: map[string]int{}}
}

func (f *fakeTransport) Report(ctx context.Context, peer string, _ Report) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[peer]++
	err := f.fail[peer]
	if err == nil && f.back != nil {
		go f.back.HandleReport(Report{From: peer})
	}
	return err
}

func (f *fakeTransport) set(peer string, err error) {
	f.mu.Lock()
	f.fail[peer] = err
	f.mu.Unlock()
}

func stateOf(m *Membership, addr string) string {
	for _, mb := range m.Members() {
		if mb.Address == addr {
			return mb.State
		}
	}
	return ""
}

// manualClock is a clock the test moves by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newManualClock() *manualClock { return &manualClock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
