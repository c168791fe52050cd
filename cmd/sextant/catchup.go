package main

import (
	"time"

	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// catchUpTimeout bounds how long a starting member waits to catch up with
// the Raft leader before it serves anyway: a member restarted on the
// minority side of a partition has no leader to catch up with, and its
// ephemeral half must still serve (AP).
const catchUpTimeout = 15 * time.Second

// raftProgress is what this member states in its membership reports: the
// Raft commit index while it leads, 0 otherwise.
func (c *clusterNode) raftProgress() uint64 {
	if c.raft == nil || !c.raft.IsLeader() {
		return 0
	}
	return c.raft.Stats().CommitIndex
}

// raftCaughtUp reports whether this member's catalog holds every
// persistent write the leader had committed when it last reported: on the
// leader, everything it knows committed is applied; on a follower, what
// it applied reaches the commit index the leader stated.
func (c *clusterNode) raftCaughtUp() bool {
	s := c.raft.Stats()
	if c.raft.IsLeader() {
		return s.CommitIndex > 0 && s.AppliedIndex >= s.CommitIndex
	}
	leader := c.raft.Leader()
	if leader == "" {
		return false
	}
	target := c.members.PeerProgress(leader)
	return target > 0 && s.AppliedIndex >= target
}

// catchUp holds readiness back until the member has caught up with the
// Raft leader (raftCaughtUp) or catchUpTimeout has passed: a member that
// restarts replays its Raft log only once the leader tells it what is
// committed, and until then its catalog misses persistent instances,
// services and namespaces that every other member lists. It returns a
// function that stops it.
func (c *clusterNode) catchUp(log *logrus.Entry) (stop func()) {
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		start := time.Now()
		caught, ok := awaitCatchUp(c.raftCaughtUp, time.Now, tick.C, quit)
		if !ok {
			return
		}
		c.caughtUp.Store(true)
		if caught {
			log.WithField("after", time.Since(start).Round(time.Millisecond)).Info("caught up with the raft leader")
			return
		}
		log.WithField("after", catchUpTimeout).Warn("no raft leader to catch up with: serving persistent data that may lag")
	}()
	return func() {
		close(quit)
		<-done
	}
}

// awaitCatchUp checks caughtUp at once and at every tick until it holds
// (caught) or catchUpTimeout has passed on now since the call (not
// caught); ok is false when quit closed first.
func awaitCatchUp(caughtUp func() bool, now func() time.Time, tick <-chan time.Time, quit <-chan struct{}) (caught, ok bool) {
	start := now()
	for {
		if caughtUp() {
			return true, true
		}
		if now().Sub(start) >= catchUpTimeout {
			return false, true
		}
		select {
		case <-quit:
			return false, false
		case <-tick:
		}
	}
}

// errCatchingUp is Ready's answer while catchUp holds readiness back.
var errCatchingUp = naming.Errorf(naming.ErrUnavailable, "catching up with the raft leader")
