package consensus

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"sextant/naming"
)

// BenchmarkStandalonePersistentRegister measures one acknowledged persistent
// registration with fsync: catalog apply, log append, fsync, and compaction
// every 10000 records amortised. The op re-registers one of 1000 instances
// spread over 10 services.
func BenchmarkStandalonePersistentRegister(b *testing.B) {
	s, _ := openStore(b, testConfig(b.TempDir()))
	ops := persistentOps(1000)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		op := ops[i%len(ops)]
		i++
		if err := s.Apply(ctx, op); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStandalonePersistentRegisterParallel is the same with 16
// concurrent writers per core, which share fsyncs (group commit).
func BenchmarkStandalonePersistentRegisterParallel(b *testing.B) {
	s, _ := openStore(b, testConfig(b.TempDir()))
	ops := persistentOps(1000)
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			op := ops[int(next.Add(1))%len(ops)]
			if err := s.Apply(ctx, op); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func persistentOps(n int) []naming.Op {
	ops := make([]naming.Op, n)
	for i := range ops {
		key := naming.NewServiceKey("", "", fmt.Sprintf("svc-%d", i%10))
		ops[i] = register(key, fmt.Sprintf("10.1.%d.%d", i/250, i%250), false)
	}
	return ops
}

// BenchmarkStandaloneBeat measures a light beat for an existing healthy
// ephemeral instance, the hottest write path.
func BenchmarkStandaloneBeat(b *testing.B) {
	s, _ := openStore(b, testConfig(b.TempDir()))
	ctx := context.Background()
	const n = 1000
	ops := make([]naming.Op, n)
	for i := range ops {
		key := naming.NewServiceKey("", "", fmt.Sprintf("svc-%d", i%10))
		reg := register(key, fmt.Sprintf("10.2.%d.%d", i/250, i%250), true)
		apply(b, s, reg)
		ops[i] = naming.Op{Kind: naming.OpBeat, Service: key, Target: reg.Instance.Key()}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := s.Apply(ctx, ops[i%n]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkStandaloneEphemeralRegister measures ephemeral registrations
// (re-registering one of 10000 instances over 100 existing services) with
// 16 writers per core: what a lone node takes from clients. registrations/s
// is the figure the issue bounds (at least 10,000/s).
func BenchmarkStandaloneEphemeralRegister(b *testing.B) {
	s, _ := openStore(b, testConfig(b.TempDir()))
	ops := make([]naming.Op, 10000)
	for i := range ops {
		ops[i] = register(naming.NewServiceKey("", "", fmt.Sprintf("svc-%d", i%100)), fmt.Sprintf("10.3.%d.%d", i/250, i%250), true)
	}
	for _, op := range ops[:100] {
		apply(b, s, op) // the services exist: their creation is a CP write
	}
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Apply(ctx, ops[int(next.Add(1))%len(ops)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "registrations/s")
}
