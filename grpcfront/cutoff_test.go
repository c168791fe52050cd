package grpcfront

import (
	"sync/atomic"
	"testing"
	"time"

	"sextant/naming"
)

// The clients are asked to move once per cut, when it has lasted the
// grace; a member whole again starts over.
func TestCutOffTiming(t *testing.T) {
	const grace = 2 * time.Second
	t0 := time.Unix(1000, 0)
	var st cutOffState
	steps := []struct {
		cut  bool
		at   time.Duration
		move bool
	}{
		{false, 0, false},
		{true, time.Second, false},                          // the cut starts
		{true, 2*time.Second + 999*time.Millisecond, false}, // 1.999 s into it
		{true, 3 * time.Second, true},                       // 2 s: move
		{true, 4 * time.Second, false},                      // once per cut
		{true, time.Minute, false},
		{false, time.Minute + time.Second, false}, // whole again
		{true, time.Minute + 2*time.Second, false},
		{true, time.Minute + 4*time.Second, true}, // a new cut, a new move
	}
	for i, s := range steps {
		if got := st.step(s.cut, t0.Add(s.at), grace); got != s.move {
			t.Fatalf("step %d (cut %v at %v): move %v, want %v", i, s.cut, s.at, got, s.move)
		}
	}
}

// A member cut off from the majority asks its clients to move
// (ConnectResetRequest), and a connection that ends after that keeps its
// instances: the client registers them again at its new member.
func TestCutOffMovesClientsAndKeepsInstances(t *testing.T) {
	var cut atomic.Bool
	f := start(t, func(c *Config) {
		c.CutOff = cut.Load
		c.CutOffGrace = 200 * time.Millisecond
		c.ProbeTimeout = 400 * time.Millisecond // the detect loop ticks every 100 ms
	}, nil)
	c := dialRaw(t, f.port())
	c.connect()
	c.ready()
	registerRaw(t, c, "cutoff", "10.8.0.1")
	cut.Store(true)
	p, err := c.next(5 * time.Second)
	if err != nil || p.Type != typeConnectReset {
		t.Fatalf("after the cut: %v %v, want %s", p, err, typeConnectReset)
	}
	if n := f.srv.Stats().MovedOff; n != 1 {
		t.Fatalf("MovedOff %d, want 1", n)
	}
	// Its health check now fails, so a client that checks before moving
	// moves.
	if hc := c.call(typeHealthCheck, map[string]any{"module": "internal"}, nil); hc.Type != typeError || decodeResp(t, hc).Success {
		t.Fatalf("health check of a moved connection: %s %s", hc.Type, hc.Body)
	}
	_ = c.cc.Close() // the client moves on
	waitFor(t, 5*time.Second, "the connection to end", func() bool { return f.srv.Connections() == 0 })
	// A release deregisters in the background at once: the instance must
	// stay for a while after the end.
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if n := len(f.instances("", "", "cutoff")); n != 1 {
			t.Fatalf("%d instances after the client moved, want 1", n)
		}
	}
	if k := f.w.kinds(); k[naming.OpDeregister] != 0 {
		t.Fatalf("%d deregistrations after the client moved", k[naming.OpDeregister])
	}
}
