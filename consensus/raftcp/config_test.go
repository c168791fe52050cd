package raftcp

import "time"

// testConfig returns short timings for in-process clusters.
func testConfig() Config {
	c := DefaultConfig()
	c.HeartbeatTimeout = 100 * time.Millisecond
	c.ElectionTimeout = 100 * time.Millisecond
	c.LeaderLeaseTimeout = 100 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	c.SnapshotInterval = 100 * time.Millisecond
	c.ApplyTimeout = time.Second
	return c
}
