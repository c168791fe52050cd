package distro

import (
	"time"

	"sextant/naming"
)

// Stall detection. A process that was stopped (SIGSTOP, a frozen VM) finds,
// when it runs again, the requests its clients sent meanwhile waiting in
// its sockets: clients gave up on them long ago and went to other nodes,
// and may since have deregistered what a stale registration would now
// bring back with a fresh stamp. So when this node notices that it did not
// run for a while, it refuses writes for a moment (clients that are still
// there retry), and works off the backlog without acting on it.
const (
	stallTick  = 100 * time.Millisecond
	stallLimit = 2 * time.Second // a tick this late means the process did not run
	stallGuard = 2 * time.Second // how long writes are refused after a stall
)

// stallLoop ticks until Close and notes a stall when a tick comes late.
func (e *Engine) stallLoop() {
	defer e.wg.Done()
	t := time.NewTicker(stallTick)
	defer t.Stop()
	e.lastTick.Store(e.sinceBorn())
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
			now := e.sinceBorn()
			if gap := time.Duration(now - e.lastTick.Swap(now)); gap > stallLimit {
				e.noteStall(gap)
			}
		}
	}
}

// sinceBorn is the monotonic time since the engine was built, which runs
// on while the process is stopped.
func (e *Engine) sinceBorn() int64 { return int64(time.Since(e.born)) }

// checkStall notes a stall when the ticker has not run for stallLimit: a
// write handled right after the process resumes must not wait for the
// ticker (whose goroutine may run after the handlers that work off the
// backlog) to learn it was stopped. The ticker and a write that both see
// the gap note it once.
func (e *Engine) checkStall() {
	last := e.lastTick.Load()
	if last == 0 || e.ctx.Err() != nil {
		return // the ticker has not started, or has ended with the engine
	}
	now := e.sinceBorn()
	if gap := time.Duration(now - last); gap > stallLimit && e.lastTick.CompareAndSwap(last, now) {
		e.noteStall(gap)
	}
}

// noteStall starts the window in which writes are refused.
func (e *Engine) noteStall(gap time.Duration) {
	e.stats.stalls.Add(1)
	e.stalledUntil.Store(time.Now().Add(stallGuard).UnixNano())
	e.log.WithField("stalled", gap.Round(time.Millisecond)).Warn("this node did not run for a while: refusing writes for a moment while it works off what waited")
}

// stalled returns an error while writes are refused after a stall,
// including one this call is the first to notice.
func (e *Engine) stalled() error {
	e.checkStall()
	if until := e.stalledUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		return naming.Errorf(naming.ErrUnavailable, "%s has just resumed after a stall, retry", e.self)
	}
	return nil
}
