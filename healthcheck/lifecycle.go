package healthcheck

import (
	"errors"
	"io"
	"sync"

	"github.com/sirupsen/logrus"
)

// lifecycle is the start-once state both checkers share. Its mutex orders
// Start against Close; closed is set by Close.
type lifecycle struct {
	sync.Mutex
	started, closed bool
}

// begin marks the checker started. It refuses a second start and a start
// after Close. The caller holds the lock.
func (l *lifecycle) begin() error {
	if l.closed {
		return errors.New("healthcheck: checker is closed")
	}
	if l.started {
		return errors.New("healthcheck: checker already started")
	}
	l.started = true
	return nil
}

// logOrDiscard returns log, or an entry that discards its lines when log
// is nil.
func logOrDiscard(log *logrus.Entry) *logrus.Entry {
	if log != nil {
		return log
	}
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}
