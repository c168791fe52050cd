package naming

import "sync/atomic"

// HealthFlips counts the changes of health of ephemeral instances applied
// to this catalog by a beat (back to healthy) or a set-health op (the beat
// checker's timeouts, or an operator). Replicated state (OpReplaceEphemeral)
// is not counted, so in a cluster each change is counted once, by the node
// responsible for the service.
type HealthFlips struct {
	ToHealthy, ToUnhealthy uint64
}

type flipCounters struct {
	healthy, unhealthy atomic.Uint64
}

func (f *flipCounters) count(healthy bool) {
	if healthy {
		f.healthy.Add(1)
	} else {
		f.unhealthy.Add(1)
	}
}

// HealthFlips returns the counts since the catalog was made.
func (c *Catalog) HealthFlips() HealthFlips {
	return HealthFlips{ToHealthy: c.flips.healthy.Load(), ToUnhealthy: c.flips.unhealthy.Load()}
}
