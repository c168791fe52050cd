package distro

import (
	"context"
	"errors"
	"testing"
	"time"

	"sextant/naming"
)

// A node that finds it did not run for a while (stopped, frozen) refuses
// writes, forwarded ones too, and judges nothing for a moment: what
// waited in its sockets meanwhile was abandoned by its clients.
func TestStalledNodeRefusesWritesBriefly(t *testing.T) {
	e, cat, v := soloEngine(t)
	k := svc("stall")
	e.noteStall(5 * time.Second)
	if err := e.Apply(context.Background(), registerOp(k, "10.15.0.1", 80)); !errors.Is(err, naming.ErrUnavailable) {
		t.Fatalf("write right after a stall: %v, want unavailable", err)
	}
	errs, err := e.OnForwardBatch(context.Background(), v.self, v.Hash(), []naming.Op{registerOp(k, "10.15.0.1", 80)})
	if err != nil || len(errs) != 1 || !errors.Is(errs[0], naming.ErrUnavailable) {
		t.Fatalf("forwarded write right after a stall: %v %v", errs, err)
	}
	if e.Owns(k) {
		t.Fatal("a node just back from a stall judges")
	}
	if len(ips(cat, k)) != 0 || e.Stats().Stalls != 1 {
		t.Fatalf("catalog %v, stats %+v", ips(cat, k), e.Stats())
	}
	e.stalledUntil.Store(time.Now().Add(-time.Millisecond).UnixNano()) // the window passed
	if err := e.Apply(context.Background(), registerOp(k, "10.15.0.1", 80)); err != nil {
		t.Fatalf("write after the window: %v", err)
	}
	if !e.Owns(k) {
		t.Fatal("judging did not resume after the window")
	}
}

// After a stop the handlers working off the sockets' backlog may run
// before the stall ticker does (the reliability suite's pauses: a node
// resumed and applied an abandoned registration 30 ms later, over a
// deregistration made meanwhile). The first write to see that the ticker
// has not run for stallLimit notes the stall itself and is refused.
func TestWriteBeforeTheTickerSeesTheStallIsRefused(t *testing.T) {
	e, cat, _ := soloEngine(t)
	k := svc("stall-early")
	// The ticker last ran 3 s ago and has not run since: the process was
	// stopped, and this write is the first thing it does.
	e.lastTick.Store(e.sinceBorn() - int64(3*time.Second))
	if err := e.Apply(context.Background(), registerOp(k, "10.15.0.2", 80)); !errors.Is(err, naming.ErrUnavailable) {
		t.Fatalf("write before the ticker ran again: %v, want unavailable", err)
	}
	if len(ips(cat, k)) != 0 || e.Stats().Stalls != 1 {
		t.Fatalf("catalog %v, stalls %d", ips(cat, k), e.Stats().Stalls)
	}
	if e.Owns(k) || e.Stats().Stalls != 1 {
		t.Fatalf("judging right after a stall, or the stall noted twice (%d)", e.Stats().Stalls)
	}
}
