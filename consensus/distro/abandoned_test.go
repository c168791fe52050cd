package distro

import (
	"context"
	"errors"
	"testing"
	"time"

	"sextant/naming"
)

// A registration its client gave up on reaches the responsible node only
// after the client, retrying through another node, registered, and then
// deregistered the instance (the reliability suite's partial partition:
// the forward from y to x waited in TCP retransmissions until the link came
// back). The deregistration came later, so it holds: the late registration
// must not be stamped past the tombstone and bring the instance back.
func TestAbandonedRegistrationDoesNotUndoDeregistration(t *testing.T) {
	clk := newTestClock()
	h := newClockedHarness(t, 3, testConfig(), clusterConfig(), clk)
	x, y, z := h.addrs[0], h.addrs[1], h.addrs[2]
	k := keyOwnedBy(t, x, h.addrs, "abandoned")
	const ip, port = "10.14.9.1", 9000

	// The client's first try goes to y, whose forward to x is lost in
	// transit; y gives up after ForwardTimeout, and so does the client.
	h.net.Hold(y, x)
	first := registerOp(k, ip, port)
	first.Time = clk.Now(y).UnixMilli() // as y's router stamps it
	if err := h.node(y).eng.Apply(context.Background(), first); err == nil {
		t.Fatal("the registration through y succeeded while its forward was held")
	}
	// The client tries z: registered, then deregistered.
	clk.Advance(time.Second)
	again := registerOp(k, ip, port)
	again.Time = clk.Now(z).UnixMilli()
	if err := h.applyRetry(z, again, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	dereg := deregisterOp(k, ip, port)
	dereg.Time = clk.Now(z).UnixMilli()
	if err := h.applyRetry(z, dereg, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { return h.converged() && !has(h.node(y), k, "10.14.9.1:9000") })

	// The link comes back and delivers the abandoned registration to x.
	clk.Advance(time.Second)
	if n := h.net.Release(); n != 1 {
		t.Fatalf("%d forward messages held, want 1", n)
	}
	h.staysGone(x, k, "10.14.9.1:9000")
	if n := h.node(x).eng.Stats().StaleRegistrations; n != 1 {
		t.Errorf("%d stale registrations counted, want 1", n)
	}

	// A registration made after the deregistration still goes through.
	clk.Advance(time.Second)
	fresh := registerOp(k, ip, port)
	fresh.Time = clk.Now(y).UnixMilli()
	if err := h.applyRetry(y, fresh, 5*time.Second); err != nil {
		t.Fatalf("registration after the deregistration: %v", err)
	}
	waitFor(t, 5*time.Second, func() bool { return h.converged() && has(h.node(z), k, "10.14.9.1:9000") })
}

// A write whose request context has ended (its client closed the
// connection) before the engine got it is not applied: nobody hears the
// answer, and a request that waited past its client's timeout would
// otherwise be stamped as if sent now.
func TestWriteOfAGoneClientIsNotApplied(t *testing.T) {
	e, cat, _ := soloEngine(t)
	k := svc("gone-client")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Apply(ctx, registerOp(k, "10.14.9.2", 80)); !errors.Is(err, naming.ErrUnavailable) {
		t.Fatalf("write of a gone client: %v, want unavailable", err)
	}
	if got := ips(cat, k); len(got) != 0 {
		t.Fatalf("applied anyway: %v", got)
	}
	if err := e.Apply(context.Background(), registerOp(k, "10.14.9.2", 80)); err != nil {
		t.Fatal(err)
	}
}
