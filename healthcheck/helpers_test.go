package healthcheck

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// fakeClock is a Clock that moves only when Advance is called.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	tickers []*fakeTicker
}

type fakeTicker struct {
	c       chan time.Time
	d       time.Duration
	next    time.Time
	stopped bool
}

func newFakeClock(t0 time.Time) *fakeClock { return &fakeClock{now: t0} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) NewTicker(d time.Duration) (<-chan time.Time, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTicker{c: make(chan time.Time, 1), d: d, next: f.now.Add(d)}
	f.tickers = append(f.tickers, t)
	return t.c, func() {
		f.mu.Lock()
		t.stopped = true
		f.mu.Unlock()
	}
}

// Advance moves the clock and fires due ticks; like time.Ticker, a tick is
// dropped when the previous one was not received yet.
func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	for _, t := range f.tickers {
		for !t.stopped && !t.next.After(f.now) {
			select {
			case t.c <- t.next:
			default:
			}
			t.next = t.next.Add(t.d)
		}
	}
}

// catWriter is a naming.Writer that applies straight to a catalog.
type catWriter struct {
	cat *naming.Catalog
	// owns decides Owns; nil means every service is owned.
	owns atomic.Pointer[func(naming.ServiceKey) bool]
	// before, when set, runs before each op is applied (to stage races).
	before func(op naming.Op)

	mu      sync.Mutex
	applied []naming.Op
}

func (w *catWriter) Apply(_ context.Context, op naming.Op) error {
	if w.before != nil {
		w.before(op)
	}
	w.mu.Lock()
	w.applied = append(w.applied, op)
	w.mu.Unlock()
	return w.cat.Apply(op)
}

func (w *catWriter) Owns(k naming.ServiceKey) bool {
	if f := w.owns.Load(); f != nil {
		return (*f)(k)
	}
	return true
}

// DropEmpty drops an empty record that is not durable from the catalog,
// as a node's router does.
func (w *catWriter) DropEmpty(k naming.ServiceKey) error { return w.cat.DropEmpty(k) }

func (w *catWriter) setOwns(f func(naming.ServiceKey) bool) { w.owns.Store(&f) }

func (w *catWriter) appliedOps() []naming.Op {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]naming.Op(nil), w.applied...)
}

// countingSource counts sweeps (each sweep lists the services once).
type countingSource struct {
	*naming.Catalog
	lists atomic.Int64
}

func (c *countingSource) Views(ns, group string) []*naming.Service {
	c.lists.Add(1)
	return c.Catalog.Views(ns, group)
}

func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func quietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

var (
	t0  = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	svc = naming.NewServiceKey("", "", "orders")
)

func ms(d time.Duration) int64 { return t0.Add(d).UnixMilli() }

// register adds an instance at time at (its registration counts as a beat).
func register(t testing.TB, cat *naming.Catalog, key naming.ServiceKey, ip string, ephemeral bool, md map[string]string, at time.Duration) naming.InstanceKey {
	t.Helper()
	in := &naming.Instance{IP: ip, Port: 8080, Cluster: naming.DefaultCluster, Weight: 1, Healthy: true,
		Enabled: true, Ephemeral: ephemeral, Metadata: md}
	if err := cat.Apply(naming.Op{Kind: naming.OpRegister, Time: ms(at), Service: key, Instance: in}); err != nil {
		t.Fatal(err)
	}
	return in.Key()
}

func beat(t testing.TB, cat *naming.Catalog, key naming.ServiceKey, ik naming.InstanceKey, at time.Duration) {
	t.Helper()
	if err := cat.Apply(naming.Op{Kind: naming.OpBeat, Time: ms(at), Service: key, Target: ik}); err != nil {
		t.Fatal(err)
	}
}

func instance(cat *naming.Catalog, key naming.ServiceKey, ik naming.InstanceKey) *naming.Instance {
	s, ok := cat.Service(key)
	if !ok {
		return nil
	}
	return s.Find(ik)
}

type fixture struct {
	cat *naming.Catalog
	w   *catWriter
	b   *BeatChecker
}

// newFixture builds a checker over a fresh catalog; the caller registers
// instances and then sweeps at 0 so the checker owns the services from t0.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	cat := naming.NewCatalog()
	w := &catWriter{cat: cat}
	b, err := NewBeatChecker(DefaultConfig(), cat, w, newFakeClock(t0), nil, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{cat: cat, w: w, b: b}
}

func (f *fixture) sweep(at time.Duration) { f.b.Sweep(context.Background(), t0.Add(at)) }
