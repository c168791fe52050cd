package healthcheck

import "time"

// Clock is where the beat checker gets time. Tests supply a fake one that
// advances by hand.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTicker returns a channel that receives the time every d, and a
	// function that stops the ticker. Like time.Ticker, it drops ticks for a
	// slow receiver.
	NewTicker(d time.Duration) (c <-chan time.Time, stop func())
}

// RealClock returns the system clock.
func RealClock() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}
