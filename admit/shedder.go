package admit

import "sync/atomic"

// Shedder counts the requests in flight and refuses those over a bound.
// The zero value is ready to use.
type Shedder struct {
	inflight atomic.Int64
	shed     atomic.Uint64
}

// Enter counts a request in flight against max (0 or less: no bound,
// nothing counted). ok is false for a request over the bound: it is
// counted as shed and must be refused. Every Enter is followed by
// Leave(counted) once the request is answered.
func (l *Shedder) Enter(max int) (counted, ok bool) {
	if max <= 0 {
		return false, true
	}
	if l.inflight.Add(1) > int64(max) {
		l.shed.Add(1)
		return true, false
	}
	return true, true
}

// Leave ends what Enter counted.
func (l *Shedder) Leave(counted bool) {
	if counted {
		l.inflight.Add(-1)
	}
}

// Shed returns how many requests were refused.
func (l *Shedder) Shed() uint64 { return l.shed.Load() }

// InFlight returns the requests admitted and not yet answered.
func (l *Shedder) InFlight() int64 { return l.inflight.Load() }
