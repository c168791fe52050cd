package distro

import "sync/atomic"

// Stats are the engine's counters since it was built, ready to export as
// metrics.
type Stats struct {
	SyncOK     uint64 // sync messages delivered
	SyncFailed uint64 // sync messages that failed and were queued again
	// SyncRelayed are the sync messages delivered through another member,
	// the direct way having failed; RelaysServed those this node delivered
	// for another member.
	SyncRelayed, RelaysServed uint64
	// ForwardsRelayed are the forward messages answered through another
	// member, the direct way having failed.
	ForwardsRelayed uint64
	SyncRecords     uint64 // records delivered by sync
	SyncDeltas      uint64 // of those, delta records (changed instances only)
	Forwards        uint64 // writes forwarded to the responsible node
	ForwardBatches  uint64 // forward messages sent (each carries one or more writes)
	ForwardsFailed  uint64 // forwards that did not reach the responsible node
	// BeatNotices are the beats forwarded without waiting for the answer
	// (counted in Forwards too); BeatNoticesRetried those sent again after
	// a lost message; BeatNoticesFailed those the responsible node did not
	// take in the end.
	BeatNotices, BeatNoticesFailed, BeatNoticesRetried uint64
	Rejected                                           uint64 // incoming messages refused for a member-view mismatch
	VerifyRounds                                       uint64 // verify rounds run as owner
	VerifyFailed                                       uint64 // verify or fetch exchanges that failed
	VerifyMismatch                                     uint64 // keys peers reported as differing
	Repaired                                           uint64 // records fetched by verify and merged
	OrphansRemoved                                     uint64 // services dropped because their owner never listed them
	StaleBeats                                         uint64 // beats sent before their instance's deregistration, answered "not found"
	Takeovers                                          uint64 // writes applied here because the responsible node refused the connection
	Stalls                                             uint64 // times this node found it had not run for a while (writes refused briefly after)
	StaleRegistrations                                 uint64 // registrations sent before their instance's deregistration, refused for retry
	Revivals                                           uint64 // instances created over their tombstone, by a late write, or revived by a record (logged)
	HeldDeregistrations                                uint64 // peers' copies stamped after a client's deregistration that lost to it within the hold (logged)
	UnconfirmedDeregistrations                         uint64 // clients' deregistrations on this responsible node answered before a peer confirmed them (none live in time)
	LoadedRecords                                      uint64 // records merged by Load
	PushedAfterAbsence                                 uint64 // records sent to an owner back in the view, its first verify round here after it left
	Dirty                                              int    // services waiting for the next sync
	Pending                                            int    // services queued for peers, summed over peers
}

type counters struct {
	syncOK, syncFailed, syncRecords            atomic.Uint64
	syncDeltas                                 atomic.Uint64
	forwards, forwardsFailed, rejected         atomic.Uint64
	forwardBatches                             atomic.Uint64
	beatNotices, beatNoticesFailed             atomic.Uint64
	beatNoticesRetried                         atomic.Uint64
	verifyRounds, verifyFailed, verifyMismatch atomic.Uint64
	repaired, orphansRemoved, loaded           atomic.Uint64
	staleBeats, takeovers, stalls              atomic.Uint64
	revivals, staleRegistrations               atomic.Uint64
	heldDeregistrations, unconfirmedDeregs     atomic.Uint64
	pushedAfterAbsence                         atomic.Uint64
	syncRelayed, relaysServed, forwardsRelayed atomic.Uint64
}

// Stats returns a copy of the counters and the current queue sizes.
func (e *Engine) Stats() Stats {
	c := &e.stats
	return Stats{
		SyncOK:                     c.syncOK.Load(),
		SyncFailed:                 c.syncFailed.Load(),
		SyncRelayed:                c.syncRelayed.Load(),
		RelaysServed:               c.relaysServed.Load(),
		ForwardsRelayed:            c.forwardsRelayed.Load(),
		SyncRecords:                c.syncRecords.Load(),
		SyncDeltas:                 c.syncDeltas.Load(),
		Forwards:                   c.forwards.Load(),
		ForwardsFailed:             c.forwardsFailed.Load(),
		ForwardBatches:             c.forwardBatches.Load(),
		BeatNotices:                c.beatNotices.Load(),
		BeatNoticesFailed:          c.beatNoticesFailed.Load(),
		BeatNoticesRetried:         c.beatNoticesRetried.Load(),
		Rejected:                   c.rejected.Load(),
		VerifyRounds:               c.verifyRounds.Load(),
		VerifyFailed:               c.verifyFailed.Load(),
		VerifyMismatch:             c.verifyMismatch.Load(),
		Repaired:                   c.repaired.Load(),
		OrphansRemoved:             c.orphansRemoved.Load(),
		StaleBeats:                 c.staleBeats.Load(),
		Takeovers:                  c.takeovers.Load(),
		Stalls:                     c.stalls.Load(),
		Revivals:                   c.revivals.Load(),
		HeldDeregistrations:        c.heldDeregistrations.Load(),
		UnconfirmedDeregistrations: c.unconfirmedDeregs.Load(),
		StaleRegistrations:         c.staleRegistrations.Load(),
		LoadedRecords:              c.loaded.Load(),
		PushedAfterAbsence:         c.pushedAfterAbsence.Load(),
		Dirty:                      e.dirty.size(),
		Pending:                    e.pendingTotal(),
	}
}
