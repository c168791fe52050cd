package push

import "sync/atomic"

// Stats counts pushes since start or the last reset.
type Stats struct {
	// Total is the number of pushes sent (first transmissions).
	Total uint64 `json:"total"`
	// Succeed is the number acked.
	Succeed uint64 `json:"succeed"`
	// Failed is the number given up after all resends, or never sent.
	Failed uint64 `json:"failed"`
	// Superseded is the number replaced, unacked, by a newer push to the same subscriber.
	Superseded uint64 `json:"superseded"`
}

// Ratio is Succeed/Total, 1 when nothing was pushed.
func (s Stats) Ratio() float64 {
	if s.Total == 0 {
		return 1
	}
	return float64(s.Succeed) / float64(s.Total)
}

type counters struct {
	total, succeed, failed, superseded atomic.Uint64
}

// Stats returns the push counters.
func (p *Pusher) Stats() Stats {
	return Stats{
		Total:      p.stats.total.Load(),
		Succeed:    p.stats.succeed.Load(),
		Failed:     p.stats.failed.Load(),
		Superseded: p.stats.superseded.Load(),
	}
}

// ResetStats sets the counters to zero.
func (p *Pusher) ResetStats() {
	p.stats.total.Store(0)
	p.stats.succeed.Store(0)
	p.stats.failed.Store(0)
	p.stats.superseded.Store(0)
}
