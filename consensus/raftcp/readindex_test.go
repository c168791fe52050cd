package raftcp

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sextant/naming"
)

// A consistent read costs no log entry: the leader's log does not grow.
func TestReadIndexWritesNothing(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3})
	l := c.leader(5 * time.Second)
	n := c.members[l].node
	c.mustApply(regOp(1))
	r := n.raft.Load()
	before := r.LastIndex()
	for i := 0; i < 50; i++ {
		if err := n.ReadIndex(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if after := r.LastIndex(); after != before {
		t.Fatalf("50 consistent reads appended %d log entries", after-before)
	}
	f := c.members[c.followers(l)[0]].node
	if err := f.ReadIndex(context.Background()); !errors.Is(err, ErrNotLeader) || LeaderHintOf(err) != c.members[l].peer.ID {
		t.Fatalf("follower: %v, want a not-leader error naming %s", err, c.members[l].peer.ID)
	}
}

// LeaderHintOf returns the leader a *NotLeaderError names.
func LeaderHintOf(err error) string {
	var e *NotLeaderError
	if errors.As(err, &e) {
		return e.Leader
	}
	return ""
}

// After a leader change, a consistent read on the new leader sees every
// write the old leader acknowledged, though the new leader may not have
// applied them when it was elected.
func TestReadIndexAfterLeaderChangeSeesAcknowledgedWrites(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3})
	for round := 0; round < 8; round++ {
		l := c.leader(10 * time.Second)
		i := 100 + round
		if err := c.members[l].node.Apply(context.Background(), regOp(i)); err != nil {
			t.Fatalf("round %d: write: %v", round, err)
		}
		c.isolate(l)
		var others []int
		for j := range c.members {
			if j != l {
				others = append(others, j)
			}
		}
		nl := c.leader(10*time.Second, others...)
		n, cat, _ := c.get(nl)
		var err error
		waitFor(t, 5*time.Second, "a consistent read on the new leader", func() bool {
			err = n.ReadIndex(context.Background())
			return err == nil || !errors.Is(err, naming.ErrUnavailable)
		})
		if err != nil {
			t.Fatalf("round %d: read: %v", round, err)
		}
		if !hasInstance(cat, i) {
			t.Fatalf("round %d: a consistent read on the new leader misses an acknowledged write", round)
		}
		c.heal()
	}
}

// Concurrent reads while writes go on: each read sees at least every write
// acknowledged before it started.
func TestReadIndexUnderWrites(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3})
	l := c.leader(5 * time.Second)
	n, cat, _ := c.get(l)
	var acked atomic.Int64
	acked.Store(-1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			if err := n.Apply(context.Background(), regOp(i)); err != nil {
				t.Errorf("write %d: %v", i, err)
				return
			}
			acked.Store(int64(i))
		}
		close(stop)
	}()
	for k := 0; k < 4; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				before := acked.Load()
				if err := n.ReadIndex(context.Background()); err != nil {
					t.Errorf("read: %v", err)
					return
				}
				if before >= 0 && !hasInstance(cat, int(before)) {
					t.Errorf("a read missed write %d, acknowledged before it started", before)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// After a restart from a snapshot, with no write since, the leader serves
// consistent reads: the state machine counts the restored snapshot as
// applied.
func TestReadIndexAfterRestartFromSnapshot(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3, disk: true, mutate: func(cfg *Config) {
		cfg.TrailingLogs = 64 // commands before the snapshot stay in the log
	}})
	for i := 0; i < 40; i++ {
		c.mustApply(regOp(i))
	}
	l := c.leader(10 * time.Second)
	c.converged(10*time.Second, l)
	// A snapshot of everything on every member: no command after it.
	for i, m := range c.members {
		if err := m.node.raft.Load().Snapshot().Error(); err != nil {
			t.Fatalf("snapshot on member %d: %v", i, err)
		}
	}
	c.closeAll()
	for i := range c.members {
		c.start(i)
	}
	n, cat, _ := c.get(c.leader(10 * time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := n.ReadIndex(ctx); err != nil {
		t.Fatalf("consistent read after a restart: %v", err)
	}
	if !hasInstance(cat, 39) {
		t.Fatal("the read misses a write made before the restart")
	}
}
