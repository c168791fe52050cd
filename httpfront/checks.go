package httpfront

import (
	"strconv"
	"strings"
	"time"

	"sextant/naming"
)

// CheckLog holds the last server-side probe of each persistent instance,
// kept in memory by the node that probes it (only changes of health are
// replicated). *healthcheck.PersistentChecker satisfies it.
type CheckLog interface {
	// LastCheck returns the last probe of an instance; false when this node
	// has not probed it.
	LastCheck(svc naming.ServiceKey, ik naming.InstanceKey) (naming.ProbeReport, bool)
}

// SetCheckLog makes GET /instance show the last probe from l. Call it
// before Start; without it, GET /instance shows the last replicated change.
func (s *Server) SetCheckLog(l CheckLog) {
	if l == nil {
		s.checks.Store(nil)
		return
	}
	s.checks.Store(&l)
}

// lastCheck is the lastCheck field of GET /instance: this node's last probe
// of the instance when it has one, otherwise the check recorded with the
// instance's last change of health (by a probe on the owning node, or by the
// beat checker). nil when there is neither.
func (s *Server) lastCheck(key naming.ServiceKey, in *naming.Instance) *naming.ProbeReport {
	if p := s.checks.Load(); p != nil && !in.Ephemeral {
		if r, ok := (*p).LastCheck(key, in.Key()); ok {
			return &r
		}
	}
	if in.Check.Time == 0 {
		return nil
	}
	return &naming.ProbeReport{Time: in.Check.Time, OK: in.Healthy, Reason: in.Check.Reason}
}

// checkSettingsParams reads the probe settings of PUT /cluster into cs:
// checkInterval and checkTimeout (milliseconds or Go durations such as
// "5s"), unhealthyThreshold and healthyThreshold (counts). An absent
// parameter keeps its value; 0 clears it, so that the service's metadata
// or the node's default applies.
func checkSettingsParams(p *request, cs *naming.CheckSettings) error {
	for _, d := range []struct {
		name  string
		dst   *int64
		valid func(time.Duration) error
	}{
		{"checkInterval", &cs.IntervalMillis, naming.ValidateCheckInterval},
		{"checkTimeout", &cs.TimeoutMillis, naming.ValidateCheckTimeout},
	} {
		v := p.get(d.name)
		if v == "" {
			continue
		}
		dur, err := naming.ParseCheckDuration(v)
		if err != nil {
			return invalid("Param '%s' is illegal: %v", d.name, err)
		}
		if dur != 0 {
			if err := d.valid(dur); err != nil {
				return err
			}
		}
		*d.dst = dur.Milliseconds()
	}
	for _, n := range []struct {
		name string
		dst  *int
	}{
		{"unhealthyThreshold", &cs.UnhealthyThreshold},
		{"healthyThreshold", &cs.HealthyThreshold},
	} {
		v := p.get(n.name)
		if v == "" {
			continue
		}
		k, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return invalid("Param '%s' is illegal, it must be an integer: %q", n.name, v)
		}
		if k != 0 {
			if err := naming.ValidateCheckStreak(n.name, k); err != nil {
				return err
			}
		}
		*n.dst = k
	}
	return nil
}
