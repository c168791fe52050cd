package main

import (
	"testing"
	"time"
)

// The clock offset test knob moves the node's clocks by the duration it
// names, and a value that is not a duration stops the node from starting.
func TestClockOffsetKnob(t *testing.T) {
	t.Setenv(clockOffsetEnv, "-45s")
	d, err := clockOffset()
	if err != nil || d != -45*time.Second {
		t.Fatalf("offset %v, %v; want -45s", d, err)
	}
	if got := time.Since(offsetNow(d)()); got < 44*time.Second || got > 46*time.Second {
		t.Fatalf("offset clock %v behind, want 45s", got)
	}
	if got := time.Since(beatClock(d).Now()); got < 44*time.Second || got > 46*time.Second {
		t.Fatalf("beat clock %v behind, want 45s", got)
	}
	t.Setenv(clockOffsetEnv, "")
	if d, err := clockOffset(); err != nil || d != 0 {
		t.Fatalf("unset: %v, %v", d, err)
	}
	t.Setenv(clockOffsetEnv, "a minute")
	if _, err := clockOffset(); err == nil {
		t.Fatal("a value that is not a duration was accepted")
	}
}
