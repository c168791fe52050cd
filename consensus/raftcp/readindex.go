package raftcp

import (
	"context"
	"time"

	"github.com/hashicorp/raft"
)

// ReadIndex makes the next read of the catalog on this node linearizable
// without writing to the log (the read-index method of the Raft paper):
//
//  1. once per term, wait until an entry of the leader's own term is
//     committed (raft's no-op at election): only then is its commit index
//     at least that of every write acknowledged before;
//  2. record the commit index;
//  3. confirm with a quorum that this node still leads (VerifyLeader, a
//     heartbeat round, no disk write), so no newer leader has committed
//     anything this node does not know of;
//  4. wait until the state machine has applied the recorded index.
//
// A read of the catalog after ReadIndex returns nil sees every write
// acknowledged before ReadIndex was called. Only the leader can serve it;
// elsewhere it returns a *NotLeaderError. It returns within ApplyTimeout
// (or ctx), with an error wrapping naming.ErrUnavailable when leadership
// could not be confirmed. Concurrent calls share heartbeat rounds.
func (n *Node) ReadIndex(ctx context.Context) error {
	r, err := n.running()
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeoutCause(ctx, n.cfg.ApplyTimeout, errApplyTimeout)
	defer cancel()
	term := r.CurrentTerm()
	if r.State() != raft.Leader {
		return &NotLeaderError{Leader: n.Leader()}
	}
	if err := n.awaitTermCommitted(wctx, r, term); err != nil {
		return err
	}
	idx := r.CommitIndex()
	if r.State() != raft.Leader || r.CurrentTerm() != term {
		return &NotLeaderError{Leader: n.Leader()}
	}
	if err := n.await(wctx, r.VerifyLeader(), "leadership check"); err != nil {
		return err
	}
	return n.awaitApplied(wctx, r, idx)
}

// readPoll is how often the waits below look again at what raft does not
// signal (its commit and applied indexes).
const readPoll = 500 * time.Microsecond

// awaitTermCommitted returns once the leader has committed an entry of term.
func (n *Node) awaitTermCommitted(ctx context.Context, r *raft.Raft, term uint64) error {
	if n.readyTerm.Load() == term {
		return nil
	}
	for {
		var l raft.Log
		if ci := r.CommitIndex(); ci > 0 && n.stores.logs.GetLog(ci, &l) == nil && l.Term == term {
			n.readyTerm.Store(term)
			return nil
		}
		if r.State() != raft.Leader || r.CurrentTerm() != term {
			return &NotLeaderError{Leader: n.Leader()}
		}
		if err := n.pause(ctx, "read"); err != nil {
			return err
		}
	}
}

// awaitApplied returns once the state machine has applied every entry up
// to idx. raft's applied index counts entries handed to the state machine,
// not yet applied; and entries that are no commands (no-ops, configuration)
// never reach it. So: wait for raft to hand over idx, find the last command
// at or before idx, and wait for the state machine to have applied it.
func (n *Node) awaitApplied(ctx context.Context, r *raft.Raft, idx uint64) error {
	for r.AppliedIndex() < idx {
		if err := n.pause(ctx, "read"); err != nil {
			return err
		}
	}
	need := uint64(0)
	for i := idx; i > n.fsm.applied.Load(); i-- {
		var l raft.Log
		if n.stores.logs.GetLog(i, &l) != nil {
			break // compacted: in a snapshot the state machine holds
		}
		if l.Type == raft.LogCommand {
			need = i
			break
		}
	}
	for n.fsm.applied.Load() < need {
		if err := n.pause(ctx, "read"); err != nil {
			return err
		}
	}
	return nil
}

// pause waits readPoll, or returns the error for ctx's end.
func (n *Node) pause(ctx context.Context, what string) error {
	t := time.NewTimer(readPoll)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return deadlineError(ctx, what, n.cfg.ApplyTimeout, false)
	}
}
