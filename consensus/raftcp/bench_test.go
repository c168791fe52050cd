package raftcp

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
//
// cpu-µs/op is the process's CPU time (user and system, all three nodes)
// per committed op: the figure that decides throughput when the cores are
// the limit. BENCH_POLICY=1/1,2/1,2/16 compares MaxInflight/OverlapBatch
// settings.
func BenchmarkApply(b *testing.B) {
	d := DefaultConfig()
	policies := [][2]int{{d.MaxInflight, d.OverlapBatch}}
	if v := os.Getenv("BENCH_POLICY"); v != "" {
		policies = nil
		for _, f := range strings.Split(v, ",") {
			in, ov, _ := strings.Cut(f, "/")
			i, err1 := strconv.Atoi(in)
			o, err2 := strconv.Atoi(ov)
			if err1 != nil || err2 != nil || i < 1 || o < 1 {
				b.Fatalf("BENCH_POLICY: %q", v)
			}
			policies = append(policies, [2]int{i, o})
		}
	}
	for _, writers := range []int{1, 16, 64, 256} {
		for _, p := range policies {
			name := fmt.Sprintf("writers=%d", writers)
			if len(policies) > 1 {
				name += fmt.Sprintf("/policy=%d-%d", p[0], p[1])
			}
			b.Run(name, func(b *testing.B) { benchApply(b, writers, p[0], p[1]) })
		}
	}
}

func benchApply(b *testing.B, writers, inflight, overlap int) {
	c := newCluster(b, clusterOpts{n: 3, disk: true, mutate: func(cfg *Config) {
		cfg.MaxInflight, cfg.OverlapBatch = inflight, overlap
		productionTimings(cfg)
	}})
	n := c.members[c.leader(10*time.Second)].node
	before := n.Stats()
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := processCPU()
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
	cpu := processCPU() - cpu0
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d writes failed", f, b.N)
	}
	after := n.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	if e := after.ProposedEntries - before.ProposedEntries; e > 0 {
		b.ReportMetric(float64(after.ProposedOps-before.ProposedOps)/float64(e), "ops/entry")
	}
}

// productionTimings sets the default timings: short test timeouts make a
// loaded two-core machine hold spurious elections.
func productionTimings(cfg *Config) {
	d := DefaultConfig()
	cfg.HeartbeatTimeout, cfg.ElectionTimeout = d.HeartbeatTimeout, d.ElectionTimeout
	cfg.LeaderLeaseTimeout, cfg.CommitTimeout = d.LeaderLeaseTimeout, d.CommitTimeout
	cfg.ApplyTimeout, cfg.SnapshotInterval = d.ApplyTimeout, d.SnapshotInterval
}

// processCPU is the CPU time (user and system) this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkConsistentRead measures linearizable reads per second on the
// leader of a three-node group (inmem transport, raft-boltdb on disk with
// fsync, default timings) with 16 concurrent readers: method=readindex is
// ReadIndex (a heartbeat round, no log entry); method=barrier is what
// consistent reads did before, VerifyLeader then Barrier (a log entry,
// fsynced on every member).
func BenchmarkConsistentRead(b *testing.B) {
	for _, method := range []string{"readindex", "barrier"} {
		b.Run("method="+method, func(b *testing.B) {
			c := newCluster(b, clusterOpts{n: 3, disk: true, mutate: productionTimings})
			n := c.members[c.leader(10*time.Second)].node
			c.mustApply(benchOp(0))
			read := n.ReadIndex
			if method == "barrier" {
				read = func(ctx context.Context) error {
					if err := n.VerifyLeader(ctx); err != nil {
						return err
					}
					return n.Barrier(ctx)
				}
			}
			var next, failed atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < 16; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for int(next.Add(1)) <= b.N {
						if err := read(context.Background()); err != nil {
							failed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if f := failed.Load(); f > 0 {
				b.Fatalf("%d of %d reads failed", f, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reads/s")
		})
	}
}
