package raftcp

import (
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// Stats is a point-in-time view of the node for metrics and status pages.
type Stats struct {
	Role   string // Leader, Follower, Candidate or Shutdown
	Leader string // the leader's Peer.ID; "" if unknown
	Term   uint64
	// LastLogIndex is the last index in the log (or last snapshot);
	// CommitIndex the last index known committed; AppliedIndex the last
	// index handed to the catalog.
	LastLogIndex, CommitIndex, AppliedIndex uint64
	LastSnapshotIndex                       uint64
	// LastContact is when the leader was last heard from (now, on the
	// leader); zero if never.
	LastContact time.Time
	// Voters is the number of voters in the latest configuration.
	Voters int

	// ProposedEntries and ProposedOps count what this node proposed while
	// leader; ProposedOps / ProposedEntries is the mean group-commit size.
	ProposedEntries, ProposedOps uint64
	// AppliedEntries and AppliedOps count what the catalog applied;
	// SkippedEntries counts entries that could not be decoded.
	AppliedEntries, AppliedOps, SkippedEntries uint64
}

// Stats returns the node's current figures. It does not block on raft.
func (n *Node) Stats() Stats {
	s := Stats{
		Role:           n.Role(),
		Leader:         n.Leader(),
		AppliedEntries: n.fsm.entries.Load(),
		AppliedOps:     n.fsm.ops.Load(),
		SkippedEntries: n.fsm.skipped.Load(),
	}
	r := n.raft.Load()
	if r == nil {
		return s
	}
	s.ProposedEntries = n.batch.counts.entries.Load()
	s.ProposedOps = n.batch.counts.ops.Load()
	s.Term = r.CurrentTerm()
	s.LastLogIndex = r.LastIndex()
	s.CommitIndex = r.CommitIndex()
	s.AppliedIndex = r.AppliedIndex()
	s.LastSnapshotIndex, _ = strconv.ParseUint(r.Stats()["last_snapshot_index"], 10, 64)
	if r.State() == raft.Leader {
		s.LastContact = time.Now()
	} else {
		s.LastContact = r.LastContact()
	}
	if f := r.GetConfiguration(); f.Error() == nil {
		for _, srv := range f.Configuration().Servers {
			if srv.Suffrage == raft.Voter {
				s.Voters++
			}
		}
	}
	return s
}
