package raftcp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// Node is one member of the Raft group that keeps the catalog's persistent
// half. All methods are safe for concurrent use.
type Node struct {
	cfg Config
	cat *naming.Catalog
	log *logrus.Entry
	fsm *fsm
	now func() time.Time

	mu      sync.Mutex // serialises Start and Close
	started bool
	closed  bool
	raft    atomic.Pointer[raft.Raft]
	batch   *batcher
	stores  *stores
	sources *sources // members' addresses, admitted on the Raft port
	obs     *raft.Observer
	obsStop chan struct{}
	obsDone chan struct{}

	// readyTerm is the last term in which this node, as leader, saw an
	// entry of its own term committed (ReadIndex).
	readyTerm atomic.Uint64

	// leaderChanged is closed and replaced whenever the leader changes, so
	// callers waiting for an election wake up.
	leaderMu      sync.Mutex
	leaderChanged chan struct{}
}

// New checks cfg and returns a node that applies committed ops to cat.
// Nothing is opened until Start.
func New(cfg Config, cat *naming.Catalog, log *logrus.Entry) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cat == nil {
		return nil, errors.New("raftcp: catalog is required")
	}
	if log == nil {
		return nil, errors.New("raftcp: logger is required")
	}
	log = log.WithField("component", "raftcp")
	return &Node{
		cfg:           cfg,
		cat:           cat,
		log:           log,
		fsm:           &fsm{cat: cat, log: log},
		sources:       newSources(peerAddrs(cfg.Peers)),
		now:           time.Now,
		leaderChanged: make(chan struct{}),
	}, nil
}

// Start opens the stores and the transport and starts raft. A node without
// any raft state bootstraps the cluster with the configuration built from
// Peers; every member of a fresh cluster does the same with the identical
// configuration, which raft accepts. A node with existing state rejoins from
// its data dir and never bootstraps; so does a node with Join set. Start
// does not wait for an election.
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.closed:
		return errors.New("raftcp: node is closed")
	case n.started:
		return errors.New("raftcp: node is already started")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	hlog := newHCLogger(n.log)
	st, err := openStores(n.cfg, hlog, n.sources)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		st.close()
		return err
	}
	// Set before raft starts: NewRaft restores the latest snapshot.
	n.fsm.snapIndex = func() uint64 {
		if metas, err := st.snaps.List(); err == nil && len(metas) > 0 {
			return metas[0].Index
		}
		return 0
	}
	hasState, err := raft.HasExistingState(st.logs, st.stable, st.snaps)
	if err != nil {
		return fail(fmt.Errorf("raftcp: read raft state: %w", err))
	}
	rc := n.cfg.raftConfig()
	rc.Logger = hlog
	r, err := raft.NewRaft(rc, n.fsm, st.logs, st.stable, st.snaps, st.trans)
	if err != nil {
		return fail(fmt.Errorf("raftcp: start raft: %w", err))
	}
	switch {
	case hasState:
		n.log.Info("rejoining raft cluster from existing state")
	case n.cfg.Join:
		n.log.Info("waiting to be added to a running raft cluster")
	default:
		f := r.BootstrapCluster(bootstrapConfiguration(n.cfg.Peers))
		if err := f.Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			_ = r.Shutdown().Error()
			return fail(fmt.Errorf("raftcp: bootstrap: %w", err))
		}
		n.log.WithField("peers", len(n.cfg.Peers)).Info("bootstrapped raft cluster")
	}
	n.stores = st
	n.watchLeader(r)
	n.batch = newBatcher(n, r)
	n.batch.start()
	n.started = true
	n.raft.Store(r) // publishes the fields above to lock-free readers
	return nil
}

// bootstrapConfiguration lists every peer as a voter, in Peers order.
func bootstrapConfiguration(peers []Peer) raft.Configuration {
	var c raft.Configuration
	for _, p := range peers {
		c.Servers = append(c.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.RaftAddr)})
	}
	return c
}

// watchLeader logs leader changes and wakes callers waiting for a leader.
func (n *Node) watchLeader(r *raft.Raft) {
	ch := make(chan raft.Observation, 16)
	n.obs = raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	r.RegisterObserver(n.obs)
	n.obsStop, n.obsDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(n.obsDone)
		for {
			select {
			case <-n.obsStop:
				return
			case o := <-ch:
				lo := o.Data.(raft.LeaderObservation)
				n.log.WithFields(logrus.Fields{"leader": string(lo.LeaderID), "self": n.cfg.Self.ID}).Info("raft leader changed")
				n.signalLeaderChange()
			}
		}
	}()
}

func (n *Node) signalLeaderChange() {
	n.leaderMu.Lock()
	close(n.leaderChanged)
	n.leaderChanged = make(chan struct{})
	n.leaderMu.Unlock()
}

func (n *Node) leaderChange() <-chan struct{} {
	n.leaderMu.Lock()
	defer n.leaderMu.Unlock()
	return n.leaderChanged
}

// running returns raft, or an error when the node is not started or closed.
func (n *Node) running() (*raft.Raft, error) {
	r := n.raft.Load()
	if r == nil {
		n.mu.Lock()
		started := n.started || n.closed
		n.mu.Unlock()
		return nil, errNotRunning(started)
	}
	return r, nil
}

// Apply commits op through raft and applies it to the catalog. It stamps
// op.Time when zero and returns the op's own catalog error (such as
// naming.ErrConflict) once the entry carrying it is committed and applied.
// op must be valid: the node's door, consensus.Router, validates every op
// before it reaches Raft, so Apply does not do it again (an invalid op
// given here anyway is refused by every member's catalog, changing
// nothing, and that error comes back). Only the leader accepts writes: elsewhere it
// returns a *NotLeaderError naming the leader. Apply returns within
// ApplyTimeout (or ctx, if sooner); without a quorum it fails with an error
// wrapping naming.ErrUnavailable and never reports a write it could not
// confirm as done. Ephemeral ops are refused: Distro replicates them.
func (n *Node) Apply(ctx context.Context, op naming.Op) error {
	r, err := n.running()
	if err != nil {
		return err
	}
	if op.Time == 0 {
		op.Time = n.now().UnixMilli()
	}
	if op.IsEphemeral() {
		return errEphemeral(op.Kind)
	}
	if op.Kind == naming.OpDeleteService && r.State() == raft.Leader {
		// Admission, on the leader and before the op is ordered: the state
		// machine itself counts persistent instances only (naming/durable.go).
		if err := n.cat.CanDeleteService(op.Service); err != nil {
			return err
		}
	}
	wctx, cancel := context.WithTimeoutCause(ctx, n.cfg.ApplyTimeout, errApplyTimeout)
	defer cancel()
	for {
		if wctx.Err() != nil {
			return deadlineError(wctx, "write", n.cfg.ApplyTimeout, false)
		}
		if err := n.awaitLeadership(wctx, r); err != nil {
			return err
		}
		err := n.propose(wctx, op)
		var nl *NotLeaderError
		if errors.As(err, &nl) && (nl.Leader == "" || nl.Leader == n.cfg.Self.ID) && wctx.Err() == nil {
			// raft refused the entry before appending it (leadership is
			// moving); give the election a moment, then try again.
			t := time.NewTimer(10 * time.Millisecond)
			select {
			case <-n.leaderChange():
			case <-t.C:
			case <-wctx.Done():
			}
			t.Stop()
			continue
		}
		return err
	}
}

// propose queues op for the batcher and waits for its result.
func (n *Node) propose(wctx context.Context, op naming.Op) error {
	req := newRequest(op)
	stop := n.batch.stop
	select {
	case n.batch.queue <- req:
	case <-stop:
		return errNotRunning(true)
	case <-wctx.Done():
		return deadlineError(wctx, "write", n.cfg.ApplyTimeout, false)
	}
	for {
		select {
		case err := <-req.done:
			return err
		case <-stop:
			if req.abandon() {
				return errNotRunning(true)
			}
			stop = nil // proposed: its result comes once raft has shut down
		case <-wctx.Done():
			return deadlineError(wctx, "write", n.cfg.ApplyTimeout, !req.abandon())
		}
	}
}

// awaitLeadership returns nil when this node is the leader, a
// *NotLeaderError when another node is, and waits (bounded by ctx) while no
// leader is known.
func (n *Node) awaitLeadership(ctx context.Context, r *raft.Raft) error {
	for {
		changed := n.leaderChange()
		if r.State() == raft.Leader {
			return nil
		}
		if r.State() == raft.Shutdown {
			return errNotRunning(true)
		}
		if _, id := r.LeaderWithID(); id != "" && string(id) != n.cfg.Self.ID {
			return &NotLeaderError{Leader: string(id)}
		}
		t := time.NewTimer(20 * time.Millisecond) // observations may be dropped; poll as well
		select {
		case <-changed:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			cause := context.Cause(ctx)
			if errors.Is(cause, errApplyTimeout) {
				return unavailable(nil, "no raft leader: none elected within %s", n.cfg.ApplyTimeout)
			}
			return unavailable(cause, "no raft leader known: %v", cause)
		}
		t.Stop()
	}
}

// Leader returns the leader's Peer.ID, or "" when none is known.
func (n *Node) Leader() string {
	r := n.raft.Load()
	if r == nil {
		return ""
	}
	_, id := r.LeaderWithID()
	return string(id)
}

// IsLeader reports whether this node believes it is the leader. Use
// ReadIndex before a read that must be linearizable.
func (n *Node) IsLeader() bool {
	r := n.raft.Load()
	return r != nil && r.State() == raft.Leader
}

// Role returns "Leader", "Follower", "Candidate" or "Shutdown".
func (n *Node) Role() string {
	r := n.raft.Load()
	if r == nil {
		return raft.Shutdown.String()
	}
	return r.State().String()
}

// Barrier waits until every entry committed before it is applied to the
// catalog. Only the leader can run it; a read of the catalog after it
// returns nil sees every write acknowledged before Barrier was called.
func (n *Node) Barrier(ctx context.Context) error {
	r, err := n.running()
	if err != nil {
		return err
	}
	if r.State() != raft.Leader {
		return &NotLeaderError{Leader: n.Leader()}
	}
	return n.await(ctx, r.Barrier(n.cfg.ApplyTimeout), "barrier")
}

// VerifyLeader confirms with a quorum that this node is still the leader.
func (n *Node) VerifyLeader(ctx context.Context) error {
	r, err := n.running()
	if err != nil {
		return err
	}
	if r.State() != raft.Leader {
		return &NotLeaderError{Leader: n.Leader()}
	}
	return n.await(ctx, r.VerifyLeader(), "leadership check")
}

// await waits for a raft future, at most ApplyTimeout or until ctx ends.
func (n *Node) await(ctx context.Context, f raft.Future, what string) error {
	wctx, cancel := context.WithTimeoutCause(ctx, n.cfg.ApplyTimeout, errApplyTimeout)
	defer cancel()
	ch := make(chan error, 1)
	go func() { ch <- f.Error() }() // raft resolves every future, at the latest on shutdown
	select {
	case err := <-ch:
		return n.fromRaft(err, what)
	case <-wctx.Done():
		return deadlineError(wctx, what, n.cfg.ApplyTimeout, false)
	}
}

// Close shuts raft down and closes the stores. It is idempotent; writes
// still waiting fail with naming.ErrUnavailable.
func (n *Node) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	r := n.raft.Load()
	if r == nil {
		return nil
	}
	err := r.Shutdown().Error()
	n.batch.close()
	r.DeregisterObserver(n.obs)
	close(n.obsStop)
	<-n.obsDone
	if cerr := n.stores.close(); err == nil {
		err = cerr
	}
	n.signalLeaderChange()
	n.log.Info("raft node closed")
	return err
}
