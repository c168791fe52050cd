package main

import (
	"fmt"
	"os"
	"time"

	"sextant/healthcheck"
)

// clockOffsetEnv names a test knob, not a setting: a duration (e.g. "45s",
// "-1m") added to this node's clock wherever it stamps or judges time
// (the router's write stamps, Distro, the beat checker), so a test can run
// members whose clocks disagree on one machine. Unset in production.
const clockOffsetEnv = "SEXTANT_CLOCK_OFFSET"

// clockOffset reads clockOffsetEnv; 0 when unset.
func clockOffset() (time.Duration, error) {
	v := os.Getenv(clockOffsetEnv)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", clockOffsetEnv, v, err)
	}
	return d, nil
}

// offsetNow is time.Now moved by d.
func offsetNow(d time.Duration) func() time.Time {
	if d == 0 {
		return time.Now
	}
	return func() time.Time { return time.Now().Add(d) }
}

// offsetClock is a beat checker clock moved by d.
type offsetClock struct {
	healthcheck.Clock
	d time.Duration
}

func (c offsetClock) Now() time.Time { return c.Clock.Now().Add(c.d) }

// beatClock is the beat checker's clock: the real one, moved by d.
func beatClock(d time.Duration) healthcheck.Clock {
	if d == 0 {
		return healthcheck.RealClock()
	}
	return offsetClock{healthcheck.RealClock(), d}
}
