package consensus

import (
	"context"

	"sextant/naming"
)

// groupWriter is an APWriter that applies several writes to one service
// together (distro.Engine).
type groupWriter interface {
	ApplyGroup(ctx context.Context, ops []naming.Op) []error
}

// ApplyGroup applies ops, writes to one service (a beat sweep's expiries
// and flips of it), and returns each one's error, as Apply would for each.
// Every op is admitted as Apply admits it. Those that need a service record
// created first, or Raft, are applied one by one as they come, as Apply
// does; then the ephemeral ones go to Distro together, which applies them
// as one change of the service where it can.
func (r *Router) ApplyGroup(ctx context.Context, ops []naming.Op) []error {
	errs := make([]error, len(ops))
	g, grouping := r.ap.(groupWriter)
	var group []naming.Op
	var at []int
	for i, op := range ops {
		if op.Time == 0 {
			op.Time = r.cfg.Now().UnixMilli()
		}
		adm, cur, err := r.admit(op)
		switch {
		case err != nil:
			errs[i] = err
		case grouping && adm.Create == nil && adm.Op.IsEphemeral():
			group, at = append(group, adm.Op), append(at, i)
		default:
			errs[i] = r.applyAdmitted(ctx, adm, cur)
		}
	}
	if len(group) > 0 {
		for j, err := range g.ApplyGroup(ctx, group) {
			errs[at[j]] = err
		}
	}
	return errs
}
