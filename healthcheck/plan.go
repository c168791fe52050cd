package healthcheck

import (
	"time"

	"sextant/naming"
)

// PlanService appends to dst the ops a sweep at now (Unix ms) must apply to
// one service. ownedSince is when this node became responsible for the
// service (Unix ms, 0 for "always"): a last beat older than that is taken
// to be ownedSince, since beats before it went to another node.
//
// Every op carries ExpectBeat, the instance's last beat as seen now, so it
// changes nothing if a beat lands before it is applied; and Time, now.
// Persistent instances are skipped.
func PlanService(s *naming.Service, now, ownedSince int64, dst []naming.Op) []naming.Op {
	for in := range s.All() {
		if !in.Ephemeral {
			continue
		}
		beat := in.LastBeat()
		last := max(beat, ownedSince)
		t := naming.TimingsOf(in.Metadata)
		switch naming.CheckBeat(t, in.Healthy, last, now) {
		case naming.BeatExpired:
			dst = append(dst, naming.Op{
				Kind: naming.OpDeregister, Time: now, Service: s.Key, Ephemeral: true,
				Target: in.Key(), ExpectBeat: beat,
			})
		case naming.BeatUnhealthy:
			dst = append(dst, naming.Op{
				Kind: naming.OpSetHealth, Time: now, Service: s.Key, Ephemeral: true,
				Target: in.Key(), Healthy: false, ExpectBeat: beat,
				Check: &naming.CheckResult{Time: now, Reason: "no beat for " + idle(last, now).String() +
					" (timeout " + t.Timeout.String() + ")"},
			})
		}
	}
	return dst
}

// idle is the time since last, rounded down to a tenth of a second.
func idle(last, now int64) time.Duration {
	return (time.Duration(now-last) * time.Millisecond).Truncate(100 * time.Millisecond)
}
