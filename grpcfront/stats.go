package grpcfront

import (
	"sync/atomic"
	"time"
)

// counters are the front's running totals.
type counters struct {
	opened, closed, refusedConns, ejected, probes   atomic.Uint64
	pushSent, pushResent, pushAcked, pushFailed     atomic.Uint64
	pushSuperseded, denied                          atomic.Uint64
	renewRounds, renewed, renewFailed, reregistered atomic.Uint64
	movedOff                                        atomic.Uint64
}

// Stats is a snapshot of the front's counters.
type Stats struct {
	// Connections set up now; Bound instances held by them; Subscriptions.
	Connections, Bound, Subscriptions int
	// Opened and Closed count HTTP/2 connections; Refused those over
	// MaxConnections; Ejected those that did not answer a probe.
	Opened, Closed, Refused, Ejected, Probes uint64
	// Pushes: sent (resends included), resent, acked, failed (no ack after
	// every resend, or a failed ack), superseded by a newer push.
	PushSent, PushResent, PushAcked, PushFailed, PushSuperseded uint64
	// Denied requests (access control); Shed those refused over
	// MaxInFlight; InFlight the naming requests being served now.
	Denied, Shed uint64
	InFlight     int64
	// Renewal of bound instances: rounds, beats that went through, beats
	// that failed, instances registered again because their owner lacked them.
	RenewRounds, Renewed, RenewFailed, Reregistered uint64
	// MovedOff counts the connections asked to move to another member
	// because this one was cut off from the majority.
	MovedOff uint64
}

// Stats returns the counters now.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Connections: s.Connections(), Bound: s.bound.count(), Subscriptions: s.subs.count(),
		Opened: c.opened.Load(), Closed: c.closed.Load(), Refused: c.refusedConns.Load(),
		Ejected: c.ejected.Load(), Probes: c.probes.Load(),
		PushSent: c.pushSent.Load(), PushResent: c.pushResent.Load(), PushAcked: c.pushAcked.Load(),
		PushFailed: c.pushFailed.Load(), PushSuperseded: c.pushSuperseded.Load(), Denied: c.denied.Load(),
		Shed: s.load.Shed(), InFlight: s.load.InFlight(),
		RenewRounds: c.renewRounds.Load(), Renewed: c.renewed.Load(), RenewFailed: c.renewFailed.Load(),
		Reregistered: c.reregistered.Load(), MovedOff: c.movedOff.Load(),
	}
}

// coded is what every answer body tells about its outcome.
type coded interface{ outcome() int }

// outcome is 200 for a success, else the error code.
func (r response) outcome() int {
	if r.Success {
		return codeOK
	}
	return r.ErrorCode
}

func (s *Server) observeRequest(typ string, code int, d time.Duration) {
	if f := s.cfg.ObserveRequest; f != nil {
		f(typ, code, d)
	}
}

func (s *Server) observePush(d time.Duration) {
	if f := s.cfg.ObservePush; f != nil {
		f(d)
	}
}
