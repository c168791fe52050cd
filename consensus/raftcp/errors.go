package raftcp

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/raft"

	"sextant/naming"
)

// ErrNotLeader is matched (errors.Is) by every *NotLeaderError.
var ErrNotLeader = errors.New("not the raft leader")

// NotLeaderError says the operation must run on the leader. Nothing was
// written, so the caller may forward the same op to Leader (a Peer.ID) or
// retry later when Leader is empty.
type NotLeaderError struct {
	Leader string
}

func (e *NotLeaderError) Error() string {
	if e.Leader == "" {
		return "not the raft leader, and no leader is known"
	}
	return "not the raft leader; the leader is " + e.Leader
}

// Unwrap makes errors.Is match ErrNotLeader and, for fronts that do not
// forward, naming.ErrUnavailable (a 503: try again elsewhere).
func (e *NotLeaderError) Unwrap() []error { return []error{ErrNotLeader, naming.ErrUnavailable} }

// unavailable builds an error of kind naming.ErrUnavailable with a message
// for the client; cause, when not nil, is also matched by errors.Is.
func unavailable(cause error, format string, args ...any) error {
	e := naming.Errorf(naming.ErrUnavailable, format, args...)
	if cause == nil {
		return e
	}
	return &causedError{kind: e, cause: cause}
}

// causedError is a *naming.Error (found by errors.As) that also unwraps to
// a lower-level cause, such as context.Canceled.
type causedError struct {
	kind  *naming.Error
	cause error
}

func (e *causedError) Error() string   { return e.kind.Msg }
func (e *causedError) Unwrap() []error { return []error{e.kind, e.cause} }

// errApplyTimeout is the cause of a write's own deadline, told apart from
// the caller's context ending.
var errApplyTimeout = errors.New("raft apply timeout")

// deadlineError explains why an operation bounded by wctx stopped waiting.
// mayApply tells whether the op may still be applied later.
func deadlineError(wctx context.Context, what string, limit time.Duration, mayApply bool) error {
	tail := ""
	if mayApply {
		tail = "; it may still be applied if the cluster recovers"
	}
	cause := context.Cause(wctx)
	if errors.Is(cause, errApplyTimeout) {
		return unavailable(nil, "no raft quorum: %s not committed within %s%s", what, limit, tail)
	}
	return unavailable(cause, "raft %s abandoned: %v%s", what, cause, tail)
}

// errShutdownUnconfirmed: the node shut down while an entry's outcome was
// still open.
var errShutdownUnconfirmed = errors.New("raft shut down before the outcome was known")

// fromRaft translates an error of hashicorp/raft into this package's kinds.
func (n *Node) fromRaft(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return &NotLeaderError{Leader: n.Leader()}
	case errors.Is(err, raft.ErrLeadershipLost):
		return unavailable(err, "no raft quorum: leadership lost before the %s was confirmed; it may or may not be applied", what)
	case errors.Is(err, errShutdownUnconfirmed):
		return unavailable(err, "raft node shut down before the %s was confirmed; it may or may not be applied", what)
	case errors.Is(err, raft.ErrRaftShutdown):
		return unavailable(err, "raft node is shut down: %s not done", what)
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return unavailable(err, "raft is overloaded: %s not queued within %s", what, n.cfg.ApplyTimeout)
	case errors.Is(err, raft.ErrAbortedByRestore):
		return unavailable(err, "a snapshot was restored while the %s was in flight; it was not applied", what)
	}
	return unavailable(err, "raft %s failed: %v", what, err)
}

// errNotRunning is returned by every call on a node that is not running.
func errNotRunning(started bool) error {
	if started {
		return naming.Errorf(naming.ErrUnavailable, "raft node is shut down")
	}
	return naming.Errorf(naming.ErrUnavailable, "raft node is not started")
}
