package life

import "errors"

// State is the start-once, close-once rule of a component: Start succeeds
// at most once and never after Close, and Close does its work once. It
// holds no lock: the component guards it with the lock it already holds
// around Start and Close, which also guards what Start sets up.
type State struct {
	started, closed bool
}

// CanStart returns the error of a Start that may not run: a second one,
// or one after Close. name begins the message.
func (s *State) CanStart(name string) error {
	switch {
	case s.closed:
		return errors.New(name + ": closed")
	case s.started:
		return errors.New(name + ": already started")
	}
	return nil
}

// Started marks a Start that succeeded.
func (s *State) Started() { s.started = true }

// End marks the component closed. first is false when Close ran before;
// started tells whether a Start had succeeded, so Close knows what there
// is to stop.
func (s *State) End() (first, started bool) {
	if s.closed {
		return false, s.started
	}
	s.closed = true
	return true, s.started
}

// Closed reports whether Close has run.
func (s *State) Closed() bool { return s.closed }
