package raftcp

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sextant/naming"
)

// benchOp registers one of 256×16 persistent instances, so services stay
// small (as most are) however large b.N grows.
func benchOp(i int) naming.Op {
	return naming.Op{Kind: naming.OpRegister,
		Service: naming.ServiceKey{Namespace: naming.DefaultNamespace, Group: naming.DefaultGroup, Name: fmt.Sprintf("svc-%d", i%256)},
		Instance: &naming.Instance{IP: fmt.Sprintf("10.1.0.%d", (i/256)%16+1), Port: 8080,
			Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true}}
}

// BenchmarkApply measures committed writes per second on a three-node
// group (inmem transport, raft-boltdb on disk with fsync, default timings)
// with 1 to 256 concurrent writers on the leader. All three nodes share the
// machine's cores, so every op is decoded and applied three times here.
func BenchmarkApply(b *testing.B) {
	for _, writers := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			c := newCluster(b, clusterOpts{n: 3, disk: true, mutate: func(cfg *Config) {
				// Production timings: short test timeouts make a loaded
				// two-core machine hold spurious elections.
				d := DefaultConfig()
				cfg.HeartbeatTimeout, cfg.ElectionTimeout = d.HeartbeatTimeout, d.ElectionTimeout
				cfg.LeaderLeaseTimeout, cfg.CommitTimeout = d.LeaderLeaseTimeout, d.CommitTimeout
				cfg.ApplyTimeout, cfg.SnapshotInterval = d.ApplyTimeout, d.SnapshotInterval
			}})
			n := c.members[c.leader(10*time.Second)].node
			before := n.Stats()
			var next atomic.Int64
			var failed atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N {
							return
						}
						if err := n.Apply(context.Background(), benchOp(i)); err != nil {
							failed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if f := failed.Load(); f > 0 {
				b.Fatalf("%d of %d writes failed", f, b.N)
			}
			after := n.Stats()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
			if e := after.ProposedEntries - before.ProposedEntries; e > 0 {
				b.ReportMetric(float64(after.ProposedOps-before.ProposedOps)/float64(e), "ops/entry")
			}
		})
	}
}
