package distro

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sextant/naming"
)

func benchEngine(b testing.TB) (*Engine, *naming.Catalog) {
	v := fixedView{self: "10.0.0.1:8848", live: []string{"10.0.0.1:8848"}}
	cat := naming.NewCatalog()
	e, err := New(testConfig(), cat, v, NewNetwork(1).Transport(v.self), quietLog())
	if err != nil {
		b.Fatal(err)
	}
	return e, cat
}

// BenchmarkApplyBeat is the hottest write: a beat on a healthy instance the
// node owns (no view is rebuilt and nothing is queued for sync).
func BenchmarkApplyBeat(b *testing.B) {
	e, _ := benchEngine(b)
	k := svc("beat")
	if err := e.Apply(context.Background(), registerOp(k, "10.1.0.1", 80)); err != nil {
		b.Fatal(err)
	}
	op := naming.Op{Kind: naming.OpBeat, Service: k, Target: naming.InstanceKey{IP: "10.1.0.1", Port: 80, Cluster: naming.DefaultCluster}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := e.Apply(context.Background(), op); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyRegister registers into a service of 10 instances on its owner.
func BenchmarkApplyRegister(b *testing.B) {
	e, _ := benchEngine(b)
	k := svc("reg")
	ops := make([]naming.Op, 10)
	for i := range ops {
		ops[i] = registerOp(k, fmt.Sprintf("10.1.0.%d", i+1), 80)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := e.Apply(context.Background(), ops[i%len(ops)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMerge merges two 20-instance records that differ in half their entries.
func BenchmarkMerge(b *testing.B) {
	var x, y Record
	for i := range 20 {
		x.Instances = append(x.Instances, inst(fmt.Sprintf("10.1.0.%d", i), 80, int64(i)))
		if i%2 == 0 {
			y.Instances = append(y.Instances, inst(fmt.Sprintf("10.1.0.%d", i), 80, int64(i+1)))
		} else {
			y.Tombstones = append(y.Tombstones, tomb(fmt.Sprintf("10.1.0.%d", i), 80, int64(i-1)))
		}
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Merge(x, y)
	}
}

// BenchmarkMergeRecord applies an incoming record (the sync receive path).
func BenchmarkMergeRecord(b *testing.B) {
	e, _ := benchEngine(b)
	k := svc("merge")
	recs := make([]Record, 2)
	for j := range recs {
		recs[j].Key = k
		for i := range 20 {
			recs[j].Instances = append(recs[j].Instances, inst(fmt.Sprintf("10.1.0.%d", i), 80, int64(j*100+i)))
		}
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := e.mergeRecord(recs[i%2], false); err != nil {
			b.Fatal(err)
		}
		// Reset the clock of the other record so it wins next time.
		recs[(i+1)%2].Instances[0].Updated += 1000
	}
}

// BenchmarkClusterRegister registers new instances into 100 services
// through the three nodes of an in-process cluster (memnet, JSON on every
// message), 64 writers at once, as the harness's register scenario does
// over HTTP. The time per op includes replication: the benchmark ends when
// every node holds every instance.
func BenchmarkClusterRegister(b *testing.B) {
	cfg := DefaultConfig()
	cfg.SyncDelay = 100 * time.Millisecond
	h := newHarness(b, 3, cfg, clusterConfig())
	var engs []*Engine
	var cats []*naming.Catalog
	for _, nd := range h.running() {
		engs, cats = append(engs, nd.eng), append(cats, nd.cat)
	}
	benchClusterRegister(b, engs, cats)
}

// benchClusterRegister registers b.N new instances into 100 services
// through engs (64 writers at once, spread over the nodes), waits until
// every catalog holds all of them and reports CPU per registration and
// writes per forward message.
func benchClusterRegister(b *testing.B, engs []*Engine, cats []*naming.Catalog) {
	const services = 100
	keys := make([]naming.ServiceKey, services)
	for i := range keys {
		keys[i] = svc(fmt.Sprintf("reg-%03d", i))
	}
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	cpu0 := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			op := registerOp(keys[i%services], fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), 80)
			if err := engs[int(i)%len(engs)].Apply(context.Background(), op); err != nil {
				b.Error(err)
				return
			}
		}
	})
	total := int(seq.Load())
	held := func(cat *naming.Catalog) int {
		n := 0
		for _, k := range keys {
			if s, ok := cat.Service(k); ok {
				n += len(s.Instances)
			}
		}
		return n
	}
	waitFor(b, time.Minute, func() bool {
		for _, cat := range cats {
			if held(cat) != total {
				return false
			}
		}
		return true
	})
	// Wall time is at the mercy of whatever else the machine runs; the
	// process's CPU time per registration is the steadier figure.
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	var fw, msgs uint64
	for _, e := range engs {
		st := e.Stats()
		fw, msgs = fw+st.Forwards, msgs+st.ForwardBatches
	}
	if msgs > 0 {
		b.ReportMetric(float64(fw)/float64(msgs), "writes/forward")
	}
}

// processCPU returns the CPU time (user and system) this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkClusterBeat sends full beats for 3,000 registered instances
// through the three nodes of an in-process cluster (two in three reach a
// node that forwards them), 64 senders at once.
func BenchmarkClusterBeat(b *testing.B) {
	h := newHarness(b, 3, DefaultConfig(), clusterConfig())
	nodes := h.running()
	const n, services = 3000, 30
	key := func(i int) naming.ServiceKey { return svc(fmt.Sprintf("beat-%03d", i%services)) }
	ip := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }
	for i := range n {
		if err := nodes[0].eng.Apply(context.Background(), registerOp(key(i), ip(i), 80)); err != nil {
			b.Fatal(err)
		}
	}
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	cpu0 := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(seq.Add(1))
			if err := nodes[i%3].eng.Apply(context.Background(), beatOp(key(i%n), ip(i%n), 80)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkHTTPClusterRegister is BenchmarkClusterRegister over real HTTP
// on 127.0.0.1 (the engines called directly, without the Nacos front), with
// the production timings but for a shorter SyncDelay.
func BenchmarkHTTPClusterRegister(b *testing.B) {
	cfg := DefaultConfig()
	cfg.SyncDelay = 100 * time.Millisecond
	var engs []*Engine
	var cats []*naming.Catalog
	for _, nd := range startHTTPClusterWith(b, 3, "", cfg, DefaultHTTPConfig().MaxBody) {
		engs, cats = append(engs, nd.eng), append(cats, nd.cat)
	}
	benchClusterRegister(b, engs, cats)
}
