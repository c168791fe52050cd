package healthcheck

import "time"

// Streak counts the consecutive good and failed probes of one instance;
// one of the two is always 0.
type Streak struct {
	OK, Fail int
}

// Judge adds one probe result to a streak and says whether the instance,
// now healthy or not, must flip: a healthy instance after unhealthyAfter
// consecutive failures, an unhealthy one after healthyAfter consecutive
// good probes. It is a pure function.
func Judge(s Streak, healthy, ok bool, unhealthyAfter, healthyAfter int) (Streak, bool) {
	if ok {
		s.Fail = 0
		if s.OK < healthyAfter {
			s.OK++
		}
		return s, !healthy && s.OK >= healthyAfter
	}
	s.OK = 0
	if s.Fail < unhealthyAfter {
		s.Fail++
	}
	return s, healthy && s.Fail >= unhealthyAfter
}

// NextDue returns when an instance whose probe was due at due and started
// at started is probed next. While the checker keeps up, probes stay on
// the grid due, due+interval, ...; a probe that started a whole interval
// late or more starts a new grid from its start, so a checker that fell
// behind does not try to catch up with a burst. It is a pure function.
func NextDue(due, started time.Time, interval time.Duration) time.Time {
	if started.Sub(due) < interval {
		return due.Add(interval)
	}
	return started.Add(interval)
}
