package healthcheck

import (
	"io"
	"sync"

	"github.com/sirupsen/logrus"

	"sextant/internal/life"
)

// lifecycle is the start-once, close-once state both checkers share.
// Its mutex orders Start against Close.
type lifecycle struct {
	sync.Mutex
	life.State
}

// begin marks the checker started. It refuses a second start and a start
// after Close. The caller holds the lock.
func (l *lifecycle) begin() error {
	if err := l.CanStart("healthcheck: checker"); err != nil {
		return err
	}
	l.Started()
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
