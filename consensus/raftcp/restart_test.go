package raftcp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sextant/naming"
)

// TestRestartFromDisk runs three nodes over TCP on 127.0.0.1 with bolt
// stores, stops them all and starts them again from the same directories.
func TestRestartFromDisk(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3, disk: true, tcp: true, mutate: func(cfg *Config) {
		cfg.SnapshotThreshold = 16
		cfg.TrailingLogs = 4
		cfg.SnapshotInterval = 20 * time.Millisecond
	}})
	c.mustApply(naming.Op{Kind: naming.OpSetSwitch, SwitchEntry: "serverMode", SwitchValue: "CP"})
	for i := 0; i < 50; i++ {
		c.mustApply(regOp(i))
	}
	c.mustApply(deregOp(7))
	l := c.leader(10 * time.Second)
	c.converged(10*time.Second, l)
	waitFor(t, 5*time.Second, "a snapshot on disk", func() bool { return c.members[l].node.Stats().LastSnapshotIndex > 0 })
	want := state(c.members[l].cat)
	for _, m := range c.members {
		if _, err := os.Stat(filepath.Join(m.cfg.DataDir, "raft.db")); err != nil {
			t.Fatalf("no bolt file: %v", err)
		}
	}

	c.closeAll()
	if n := c.msgs.count("bootstrapped raft cluster"); n != 3 {
		t.Fatalf("%d bootstraps on first start, want 3", n)
	}
	for i := range c.members {
		c.start(i)
	}
	if n := c.msgs.count("bootstrapped raft cluster"); n != 3 {
		t.Errorf("restarted nodes bootstrapped again (%d bootstraps)", n)
	}
	if n := c.msgs.count("rejoining raft cluster from existing state"); n != 3 {
		t.Errorf("%d nodes rejoined from their data dirs, want 3", n)
	}
	c.leader(10 * time.Second)
	// Every node rebuilds the catalog from its snapshot and log.
	for i, m := range c.members {
		waitFor(t, 10*time.Second, fmt.Sprintf("node %d to restore", i), func() bool { return state(m.cat) == want })
	}
	c.mustApply(regOp(99))
	c.converged(10*time.Second, c.leader(10*time.Second))
	if !hasInstance(c.members[0].cat, 99) || hasInstance(c.members[0].cat, 7) || c.members[0].cat.Switches().ServerMode != "CP" {
		t.Error("catalog after restart is wrong")
	}
}

func TestDataDirIsExclusive(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.Self = Peer{ID: "127.0.0.1:8848", RaftAddr: freeAddr(t)}
	cfg.Peers = []Peer{cfg.Self}
	cfg.DataDir = dir
	a, err := New(cfg, naming.NewCatalog(), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	cfg.Self.RaftAddr = freeAddr(t)
	cfg.Peers = []Peer{cfg.Self}
	b, _ := New(cfg, naming.NewCatalog(), testLogger(t))
	if err := b.Start(context.Background()); err == nil {
		b.Close()
		t.Fatal("a second node opened a data dir in use")
	}
	// A wildcard raft address cannot be advertised to peers.
	cfg.DataDir = t.TempDir()
	cfg.Self.RaftAddr = "0.0.0.0:0"
	cfg.Peers = []Peer{cfg.Self}
	w, _ := New(cfg, naming.NewCatalog(), testLogger(t))
	if err := w.Start(context.Background()); err == nil {
		w.Close()
		t.Fatal("wildcard raft address accepted")
	}
}
