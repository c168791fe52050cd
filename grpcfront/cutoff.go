package grpcfront

import "time"

// Moving clients off a member cut off from the majority. A Nacos 2.x
// client stays on its member for as long as the member answers its health
// checks. A member cut off from most of the cluster still answers, but
// its renewals no longer reach the owners of its clients' instances, which
// expire them after the beat timeout, and its clients hear nothing of
// changes made elsewhere. So once Config.CutOff has reported this member
// cut off for CutOffGrace, every client connected then is sent
// ConnectResetRequest, as at shutdown, and from then on the health checks
// of those connections fail (nacos-sdk-go checks its member before it
// moves, and stays while the check passes): the SDKs reconnect to another
// member of their server list and register their instances again there
// (redo), well within the beat timeout. No member is named in the request:
// a client told to go to one member keeps trying that member alone, and
// this member cannot tell which ones the client reaches. The connections that end this way
// keep their instances (release), so nothing is deregistered on the way.
//
// It happens once per cut: clients that connect (or come back) while the
// member stays cut off are not asked again, since they may have no other
// member to go to; AP keeps serving them here. When the member is whole
// again, the next cut starts over.

// cutOffState is the detect loop's memory of the current cut.
type cutOffState struct {
	since time.Time // when CutOff first said yes; zero while whole
	moved bool      // whether the clients were asked to move in this cut
}

// step records what CutOff says at now and reports whether the clients
// are to be asked to move now: the first time the cut has lasted grace. It
// is pure, so the timing rule is tested without a clock.
func (st *cutOffState) step(cut bool, now time.Time, grace time.Duration) bool {
	if !cut {
		*st = cutOffState{}
		return false
	}
	if st.since.IsZero() {
		st.since = now
	}
	if st.moved || now.Sub(st.since) < grace {
		return false
	}
	st.moved = true
	return true
}

// checkCutOff asks the clients to move once this member has been cut off
// for CutOffGrace. It runs on the detect loop.
func (s *Server) checkCutOff(now time.Time) {
	if s.cfg.CutOff == nil || !s.cutOff.step(s.cfg.CutOff(), now, s.cfg.CutOffGrace) {
		return
	}
	list := s.setUp()
	for _, c := range list {
		c.moved.Store(true)
	}
	s.askToMove(list)
	s.stats.movedOff.Add(uint64(len(list)))
	s.log.WithField("connections", len(list)).Warn("this member is cut off from a majority of the cluster: asked its gRPC clients to move to another member")
}
