package raftcp

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/raft"

	"sextant/naming"
)

// SetPeers changes the voters to match peers. It runs on the leader only.
// New members are added first, then at most one member is removed, so the
// group never loses more than one voter in one call and a majority of the
// current configuration always remains; a list that would do otherwise is
// refused with an ErrInvalid error and nothing changes. A member whose
// raft address changed is re-added with its new address. Each change is a
// raft configuration entry and is bounded by ApplyTimeout.
func (n *Node) SetPeers(ctx context.Context, peers []Peer) error {
	r, err := n.running()
	if err != nil {
		return err
	}
	if len(peers) == 0 {
		return naming.Errorf(naming.ErrInvalid, "raft peers cannot be empty")
	}
	if err := validatePeers(peers); err != nil {
		return naming.Errorf(naming.ErrInvalid, "%v", err)
	}
	if r.State() != raft.Leader {
		return &NotLeaderError{Leader: n.Leader()}
	}
	f := r.GetConfiguration()
	if err := f.Error(); err != nil {
		return n.fromRaft(err, "configuration read")
	}
	current := map[string]raft.Server{}
	voters := 0
	for _, s := range f.Configuration().Servers {
		current[string(s.ID)] = s
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	plan := planChange(current, peers)
	if len(plan.remove) > 1 {
		return naming.Errorf(naming.ErrInvalid, "raft peers change would remove %d voters (%s) at once; remove one at a time",
			len(plan.remove), strings.Join(plan.remove, ", "))
	}
	if kept := voters - len(plan.remove); len(plan.remove) > 0 && kept < voters/2+1 {
		return naming.Errorf(naming.ErrInvalid, "raft peers change would leave %d of the %d current voters, fewer than a majority", kept, voters)
	}
	for _, p := range plan.add {
		n.log.WithField("peer", p.ID).WithField("raftAddr", p.RaftAddr).Info("adding raft voter")
		if err := n.await(ctx, r.AddVoter(raft.ServerID(p.ID), raft.ServerAddress(p.RaftAddr), 0, n.cfg.ApplyTimeout), "configuration change"); err != nil {
			return fmt.Errorf("raftcp: add voter %s: %w", p.ID, err)
		}
	}
	for _, id := range plan.remove {
		n.log.WithField("peer", id).Info("removing raft voter")
		if err := n.await(ctx, r.RemoveServer(raft.ServerID(id), 0, n.cfg.ApplyTimeout), "configuration change"); err != nil {
			return fmt.Errorf("raftcp: remove voter %s: %w", id, err)
		}
	}
	return nil
}

type change struct {
	add    []Peer   // new voters, or voters whose address changed
	remove []string // ids of voters not in the list
}

// planChange compares the current configuration with the wanted peers.
func planChange(current map[string]raft.Server, peers []Peer) change {
	var c change
	want := map[string]bool{}
	for _, p := range peers {
		want[p.ID] = true
		s, ok := current[p.ID]
		if !ok || s.Suffrage != raft.Voter || string(s.Address) != p.RaftAddr {
			c.add = append(c.add, p)
		}
	}
	for id, s := range current {
		if !want[id] && s.Suffrage == raft.Voter {
			c.remove = append(c.remove, id)
		}
	}
	sort.Strings(c.remove)
	return c
}
