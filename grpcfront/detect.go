package grpcfront

import (
	"time"
)

// idleAction is what the idle check decides for one connection.
type idleAction int

const (
	idleOK    idleAction = iota
	idleProbe            // send a ClientDetectionRequest
	idleEject            // the probe went unanswered: end the connection
)

// judgeIdle decides, at now, for a connection last heard from at last and
// probed at probe (0: no probe waiting), all in Unix nanoseconds. It is a
// pure function so the timing rule is tested without a clock.
func judgeIdle(now, last, probe int64, idle, timeout time.Duration) idleAction {
	if probe != 0 {
		if time.Duration(now-probe) >= timeout {
			return idleEject
		}
		return idleOK
	}
	if time.Duration(now-last) >= idle {
		return idleProbe
	}
	return idleOK
}

// detectLoop probes connections that stayed silent for IdleProbe and
// ejects those that do not answer within ProbeTimeout; their instances go
// with them.
func (s *Server) detectLoop() {
	defer s.wg.Done()
	t := time.NewTicker(min(time.Second, s.cfg.ProbeTimeout/4, s.cfg.IdleProbe/4))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			now := s.now()
			s.detect(now)
			s.checkCutOff(now)
		}
	}
}

func (s *Server) detect(now time.Time) {
	for _, c := range s.setUp() {
		switch judgeIdle(now.UnixNano(), c.lastActive.Load(), c.probe.Load(), s.cfg.IdleProbe, s.cfg.ProbeTimeout) {
		case idleProbe:
			c.probe.Store(now.UnixNano())
			c.out.request(s.serverRequest(typeClientDetection, internalRequest{Module: "internal"}))
			s.stats.probes.Add(1)
		case idleEject:
			s.stats.ejected.Add(1)
			s.log.WithField("conn", c.id).WithField("remote", c.remote).Info("ejected a connection that did not answer ClientDetectionRequest")
			s.end(c, "ejected")
		}
	}
}
