package healthcheck

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// watchedPeers is a Peers whose member view the test moves.
type watchedPeers struct {
	mu  sync.Mutex
	fns []func()
}

func (p *watchedPeers) AllReachable() bool { return true }

func (p *watchedPeers) Watch(fn func()) func() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fns = append(p.fns, fn)
	return func() {}
}

func (p *watchedPeers) moved() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, fn := range p.fns {
		fn()
	}
}

// periodLog records the checker's "judging starts/stops" lines.
type periodLog struct {
	mu    sync.Mutex
	lines []logrus.Fields
}

func (h *periodLog) Levels() []logrus.Level { return logrus.AllLevels }

func (h *periodLog) Fire(e *logrus.Entry) error {
	if e.Message == "judging starts" || e.Message == "judging stops" {
		f := logrus.Fields{"msg": e.Message}
		for k, v := range e.Data {
			f[k] = v
		}
		h.mu.Lock()
		h.lines = append(h.lines, f)
		h.mu.Unlock()
	}
	return nil
}

func (h *periodLog) stops() []logrus.Fields {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []logrus.Fields
	for _, f := range h.lines {
		if f["msg"] == "judging stops" {
			out = append(out, f)
		}
	}
	return out
}

// When the member view moves a service away, its judging period is logged
// as ended at once, with its last sweep, not at the next sweep (which a
// node killed meanwhile never runs); the sweeps judge as before: a service
// still away at the next sweep is dropped and its grace starts over when
// it comes back, and one back before the next sweep keeps its grace.
func TestJudgingStopsWhenTheViewMoves(t *testing.T) {
	log := logrus.New()
	log.SetOutput(io.Discard)
	hook := &periodLog{}
	log.AddHook(hook)
	f := newFixture(t)
	peers := &watchedPeers{}
	b, err := NewBeatChecker(DefaultConfig(), f.cat, f.w, newFakeClock(t0), peers, logrus.NewEntry(log))
	if err != nil {
		t.Fatal(err)
	}
	ik := register(t, f.cat, svc, "10.0.0.1", true, nil, 0)
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sweep := func(at time.Duration) { b.Sweep(context.Background(), t0.Add(at)) }
	sweep(time.Second)

	f.w.setOwns(func(naming.ServiceKey) bool { return false })
	peers.moved()
	waitFor(t, 5*time.Second, func() bool { return len(hook.stops()) == 1 })
	if got := hook.stops()[0]; got["from"] != ms(0) || got["to"] != ms(time.Second) {
		t.Fatalf("the period ended as %v, want from the start to the last sweep", got)
	}
	sweep(16 * time.Second)
	if n := len(hook.stops()); n != 1 {
		t.Fatalf("%d periods ended, want the one", n)
	}

	// Back: a new period, whose grace starts at the sweep that sees it.
	f.w.setOwns(func(naming.ServiceKey) bool { return true })
	sweep(17 * time.Second)
	sweep(31 * time.Second)
	if in := instance(f.cat, svc, ik); in == nil || !in.Healthy {
		t.Fatalf("flipped 14 s into a new period: %+v", in)
	}
	// Away and back between two sweeps: the period is logged as ended,
	// the next sweep starts another, and the grace that began at 17 s holds.
	f.w.setOwns(func(naming.ServiceKey) bool { return false })
	peers.moved()
	waitFor(t, 5*time.Second, func() bool { return len(hook.stops()) == 2 })
	f.w.setOwns(func(naming.ServiceKey) bool { return true })
	sweep(32100 * time.Millisecond)
	if in := instance(f.cat, svc, ik); in == nil || in.Healthy {
		t.Fatalf("want unhealthy 15.1 s after the grace began at 17 s: %+v", in)
	}
}
