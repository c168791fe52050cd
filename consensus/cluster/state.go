package cluster

import (
	"time"

	"sextant/naming"
)

// peer is what this node knows of one other member.
type peer struct {
	state    string // by this node's own reports: whether it reaches the member
	fails    int
	lastSeen int64 // Unix ms of the last successful report either way
	refused  bool  // our last report found no process listening there
	// seen is when (this node's clock, monotonic) the last successful
	// exchange either way was recorded: the member is DOWN by failures
	// only once DownTime has passed since.
	seen time.Time
	// okSent is when this node sent its last report the member took: the
	// member had heard from this node at or after it (the lease, Agreed).
	okSent time.Time

	// What the member said in its last report to this node.
	heard int64    // Unix ms that report arrived; 0 for none
	hash  uint64   // its live-set hash
	live  []string // its live set (nil from a member that does not send it)
	reach []string // the members its own reports reach
	// progress is how far it said it committed the replicated log.
	progress uint64
}

// result is the outcome of one report exchange with a peer.
type result int

const (
	reportOK      result = iota // our report succeeded, or theirs arrived
	reportFailed                // our report failed (timeout, reset, error answer)
	reportRefused               // connection refused: nothing listens there
)

// next is the state machine of one member: a success makes it UP and
// clears the failure count; failures count up to SUSPICIOUS and DOWN; a
// refused connection is DOWN at once, since no process is there to answer.
func next(p peer, r result, suspectAfter, downAfter int) peer {
	switch r {
	case reportOK:
		p.state, p.fails = naming.MemberUp, 0
		return p
	case reportRefused:
		if p.fails < downAfter {
			p.fails = downAfter
		}
	default:
		p.fails++
	}
	switch {
	case p.fails >= downAfter:
		p.state = naming.MemberDown
	case p.fails >= suspectAfter:
		p.state = naming.MemberSuspicious
	}
	return p
}
