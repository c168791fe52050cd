package raftcp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Peer is one member of the Raft group.
type Peer struct {
	// ID is the member's HTTP address (host:port). It is the raft.ServerID,
	// so Leader returns an address a router can forward requests to.
	ID string
	// RaftAddr is where the member's Raft transport listens (host:port).
	RaftAddr string
}

// Config configures a Node.
type Config struct {
	// Self is this node; it must appear in Peers with the same RaftAddr.
	Self Peer
	// Peers is the full member list including Self. It must be identical on
	// every node: a fresh cluster bootstraps from it.
	Peers []Peer
	// DataDir holds the raft-boltdb log and stable store (raft.db) and the
	// file snapshots (snapshots/). Required unless InMemory.
	DataDir string
	// Join marks a member added to a running cluster: it never bootstraps,
	// and waits until the leader adds it (SetPeers). Members of a fresh
	// cluster leave it false.
	Join bool
	// InMemory keeps log, stable store and snapshots in memory (tests only:
	// everything is lost on Close).
	InMemory bool
	// BindAddr is where the TCP transport listens (e.g. 0.0.0.0:7848);
	// empty means Self.RaftAddr. Peers always dial Self.RaftAddr.
	BindAddr string
	// Transport is the Raft transport. Nil means a TCP transport bound on
	// BindAddr (or Self.RaftAddr). Tests pass raft.NewInmemTransport. The node's Close
	// closes it (raft shuts its transport down).
	Transport raft.Transport
	// Secret, when set, authenticates every connection of the TCP
	// transport: a peer must prove it knows the secret before a Raft
	// message is read (authstream.go). It is the cluster secret.
	Secret string
	// TLSServer and TLSClient, when set (with Secret), wrap every Raft
	// connection in TLS, mutual: the listener asks for and checks the
	// dialer's certificate, the dialer checks the listener's against the
	// Raft address it dialled.
	TLSServer, TLSClient *tls.Config

	// Raft timings; see hashicorp/raft's Config for their meaning.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration

	// SnapshotThreshold is how many log entries since the last snapshot
	// trigger a new one; SnapshotInterval is how often that is checked;
	// TrailingLogs is how many entries a snapshot leaves in the log so slow
	// followers can catch up without a snapshot.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64
	// SnapshotRetain is how many file snapshots are kept on disk.
	SnapshotRetain int

	// ApplyTimeout bounds every write, barrier and leadership check: without
	// a quorum they fail within this time with a naming.ErrUnavailable error.
	ApplyTimeout time.Duration
	// MaxBatch is the most ops one log entry carries (group commit).
	MaxBatch int
	// OverlapBatch is the fewest ops an entry must carry to be proposed
	// while another is still in flight; smaller groups wait for the
	// in-flight entry to commit (1: propose whenever a slot is free).
	OverlapBatch int
	// MaxInflight is how many entries the leader proposes before the first
	// of them commits; further ops wait and are batched together.
	MaxInflight int
}

// DefaultConfig returns timings suited to a LAN. Self, Peers and DataDir
// must still be set.
func DefaultConfig() Config {
	return Config{
		HeartbeatTimeout:   time.Second,
		ElectionTimeout:    time.Second,
		LeaderLeaseTimeout: 500 * time.Millisecond,
		CommitTimeout:      50 * time.Millisecond,
		SnapshotThreshold:  8192,
		SnapshotInterval:   2 * time.Minute,
		TrailingLogs:       10240,
		SnapshotRetain:     2,
		ApplyTimeout:       5 * time.Second,
		MaxBatch:           256,
		MaxInflight:        2,
		OverlapBatch:       32,
	}
}

// Validate reports the first problem with the configuration.
func (c Config) Validate() error {
	if c.Self.ID == "" || c.Self.RaftAddr == "" {
		return errors.New("raftcp: self needs an id and a raft address")
	}
	if len(c.Peers) == 0 {
		return errors.New("raftcp: peers must list every member, self included")
	}
	if (c.TLSServer == nil) != (c.TLSClient == nil) || c.TLSServer != nil && c.Secret == "" {
		return errors.New("raftcp: TLS needs both the server and the client configuration, and the cluster secret")
	}
	if err := validatePeers(c.Peers); err != nil {
		return err
	}
	found := false
	for _, p := range c.Peers {
		if p.ID == c.Self.ID {
			if p.RaftAddr != c.Self.RaftAddr {
				return fmt.Errorf("raftcp: self %s has raft address %s but peers list %s", c.Self.ID, c.Self.RaftAddr, p.RaftAddr)
			}
			found = true
		}
	}
	if !found {
		return fmt.Errorf("raftcp: self %s is not among the peers", c.Self.ID)
	}
	if !c.InMemory && c.DataDir == "" {
		return errors.New("raftcp: data dir is required unless in-memory")
	}
	switch {
	case c.HeartbeatTimeout < 5*time.Millisecond:
		return errors.New("raftcp: heartbeat timeout must be at least 5ms")
	case c.ElectionTimeout < c.HeartbeatTimeout:
		return errors.New("raftcp: election timeout must be at least the heartbeat timeout")
	case c.LeaderLeaseTimeout < 5*time.Millisecond || c.LeaderLeaseTimeout > c.HeartbeatTimeout:
		return errors.New("raftcp: leader lease timeout must be between 5ms and the heartbeat timeout")
	case c.CommitTimeout < time.Millisecond:
		return errors.New("raftcp: commit timeout must be at least 1ms")
	case c.SnapshotInterval < 5*time.Millisecond:
		return errors.New("raftcp: snapshot interval must be at least 5ms")
	case c.SnapshotThreshold == 0:
		return errors.New("raftcp: snapshot threshold must be positive")
	case c.SnapshotRetain < 1:
		return errors.New("raftcp: snapshot retain must be at least 1")
	case c.ApplyTimeout <= 0:
		return errors.New("raftcp: apply timeout must be positive")
	case c.MaxBatch < 1:
		return errors.New("raftcp: max batch must be at least 1")
	case c.MaxInflight < 1:
		return errors.New("raftcp: max inflight must be at least 1")
	case c.OverlapBatch < 1:
		return errors.New("raftcp: overlap batch must be at least 1")
	}
	return nil
}

// validatePeers checks that a member list has non-empty, unique ids and
// raft addresses.
func validatePeers(peers []Peer) error {
	ids := map[string]bool{}
	addrs := map[string]bool{}
	for _, p := range peers {
		if p.ID == "" || p.RaftAddr == "" {
			return fmt.Errorf("raftcp: peer %q needs an id and a raft address", p.ID)
		}
		if ids[p.ID] {
			return fmt.Errorf("raftcp: peer id %s is listed twice", p.ID)
		}
		if addrs[p.RaftAddr] {
			return fmt.Errorf("raftcp: raft address %s is listed twice", p.RaftAddr)
		}
		ids[p.ID], addrs[p.RaftAddr] = true, true
	}
	return nil
}

// raftConfig translates c into hashicorp/raft's configuration.
func (c Config) raftConfig() *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.Self.ID)
	rc.HeartbeatTimeout = c.HeartbeatTimeout
	rc.ElectionTimeout = c.ElectionTimeout
	rc.LeaderLeaseTimeout = c.LeaderLeaseTimeout
	rc.CommitTimeout = c.CommitTimeout
	rc.SnapshotThreshold = c.SnapshotThreshold
	rc.SnapshotInterval = c.SnapshotInterval
	rc.TrailingLogs = c.TrailingLogs
	return rc
}
