package consensus

import (
	"errors"

	"sextant/consensus/raftcp"
	"sextant/naming"
)

// CPApplyPath is the internal endpoint a follower forwards CP ops to.
//
// A request carries one op (a JSON naming.Op, answered 200 "ok" or with a
// wireError) or, with Content-Type OpsContentType, a batch: a JSON array
// of ops, answered 200 with a JSON array holding, per op and in order,
// null (committed) or its wireError. A request that fails as a whole
// (unauthorized, unreadable) is answered with one wireError and nothing
// of it was applied.
const CPApplyPath = "/sextant/v1/raft/apply"

// OpsContentType marks a batch of ops, and the answer to one.
const OpsContentType = "application/vnd.sextant.ops+json"

// BudgetHeader carries, in milliseconds, how long the forwarding node still
// waits for the answer; the leader gives up on the ops in time to answer.
const BudgetHeader = "X-Sextant-Budget-Ms"

// Bounds of the request bodies CPApplyHandler reads.
const (
	maxOpBody    = 4 << 20
	maxBatchBody = 32 << 20
	// MaxForwardBatch is the most ops one forwarded request carries.
	MaxForwardBatch = 256
)

// wireError is how an op's error crosses between nodes: its kind, its
// message for the client, and the leader when the kind is "not-leader".
type wireError struct {
	Kind   string `json:"kind"`
	Msg    string `json:"msg"`
	Leader string `json:"leader,omitempty"`
}

var kinds = []struct {
	name string
	err  error
}{
	{"invalid", naming.ErrInvalid}, {"not-found", naming.ErrNotFound}, {"conflict", naming.ErrConflict},
	{"forbidden", naming.ErrForbidden}, {"too-large", naming.ErrTooLarge}, {"unavailable", naming.ErrUnavailable},
}

func encodeError(err error) wireError {
	if h := LeaderHint(err); errors.Is(err, raftcp.ErrNotLeader) {
		return wireError{Kind: "not-leader", Msg: err.Error(), Leader: h}
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return wireError{Kind: k.name, Msg: err.Error()}
		}
	}
	return wireError{Kind: "internal", Msg: err.Error()}
}

func (w wireError) decode() error {
	if w.Kind == "not-leader" {
		return &raftcp.NotLeaderError{Leader: w.Leader}
	}
	for _, k := range kinds {
		if w.Kind == k.name {
			return &naming.Error{Kind: k.err, Msg: w.Msg}
		}
	}
	return errors.New(w.Msg)
}
