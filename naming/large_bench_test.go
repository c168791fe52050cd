package naming

import (
	"fmt"
	"testing"
)

// largeSize is the service size of the benchmarks below: the size at which
// one change must stay cheap (a handful of microseconds and kilobytes).
const largeSize = 10000

// largeInstance is the i-th instance of the large service, as a client
// would register it.
func largeInstance(i int) *Instance {
	return &Instance{
		IP: fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255), Port: 8080, Cluster: DefaultCluster, Weight: 1,
		Healthy: true, Enabled: true, Ephemeral: true, Metadata: map[string]string{"zone": "a", "version": "1.2.3"},
	}
}

// largeCatalog holds one service of largeSize ephemeral instances.
func largeCatalog(tb testing.TB) (*Catalog, ServiceKey) {
	tb.Helper()
	c := NewCatalog()
	k := NewServiceKey("", "", "large")
	ins := make([]*Instance, largeSize)
	for i := range ins {
		ins[i] = largeInstance(i)
	}
	if err := c.Apply(Op{Kind: OpMergeEphemeral, Time: 1, Service: k, Instances: ins}); err != nil {
		tb.Fatal(err)
	}
	if s, _ := c.Service(k); len(s.Instances) != largeSize {
		tb.Fatalf("large service holds %d instances", len(s.Instances))
	}
	return c, k
}

// BenchmarkLargeServiceFlip is one health flip (the beat checker's op) in a
// service of 10,000 instances; every op changes the instance's health.
func BenchmarkLargeServiceFlip(b *testing.B) { benchLargeFlips(b, nil) }

// benchLargeFlips flips the instances of the large service in turn, each
// flip followed by read when it is not nil.
func benchLargeFlips(b *testing.B, read func(*Catalog, ServiceKey)) {
	c, k := largeCatalog(b)
	targets := make([]InstanceKey, largeSize)
	for i := range targets {
		targets[i] = largeInstance(i).Key()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		healthy := (n/largeSize)%2 == 1
		if err := c.Apply(Op{Kind: OpSetHealth, Time: int64(n + 2), Service: k,
			Target: targets[n%largeSize], Healthy: healthy, Ephemeral: true}); err != nil {
			b.Fatal(err)
		}
		if read != nil {
			read(c, k)
		}
	}
	b.StopTimer()
	s, _ := c.Service(k)
	if want := ((b.N-1)/largeSize)%2 == 1; b.N > 0 && s.Find(targets[0]).Healthy != want {
		b.Fatalf("instance 0 healthy %v after %d flips", !want, b.N)
	}
}

// BenchmarkLargeServiceFlipGroup is BenchmarkLargeServiceFlip written as a
// beat sweep writes them: groups of 100 flips of the service
// (Catalog.ApplyGroup); the figure is per flip.
func BenchmarkLargeServiceFlipGroup(b *testing.B) {
	c, k := largeCatalog(b)
	targets := make([]InstanceKey, largeSize)
	for i := range targets {
		targets[i] = largeInstance(i).Key()
	}
	ops := make([]Op, 0, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		ops = append(ops, Op{Kind: OpSetHealth, Time: int64(n + 2), Service: k,
			Target: targets[n%largeSize], Healthy: (n/largeSize)%2 == 1, Ephemeral: true})
		if len(ops) < cap(ops) && n < b.N-1 {
			continue
		}
		for _, err := range c.ApplyGroup(ops) {
			if err != nil {
				b.Fatal(err)
			}
		}
		ops = ops[:0]
	}
}

// BenchmarkLargeServiceRegister registers into a service of 10,000
// instances, cycling over 1,000 further addresses: the first pass adds
// them, later passes re-register them, so the service stays between 10,000
// and 11,000 instances.
func BenchmarkLargeServiceRegister(b *testing.B) {
	c, k := largeCatalog(b)
	extra := make([]*Instance, 1000)
	for i := range extra {
		extra[i] = largeInstance(largeSize + i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		if err := c.Apply(Op{Kind: OpRegister, Time: int64(n + 2), Service: k, Instance: extra[n%len(extra)]}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLargeServiceMerge is what a peer applies for one replicated
// change: a merge of one instance (its weight changed) into a service of
// 10,000 instances.
func BenchmarkLargeServiceMerge(b *testing.B) {
	c, k := largeCatalog(b)
	// Two changed versions of each instance, used in turns by pass, so
	// that every merge changes what readers see.
	var passes [2][][]*Instance
	for p := range passes {
		passes[p] = make([][]*Instance, largeSize)
		for i := range passes[p] {
			in := largeInstance(i)
			in.Weight = float64(2 + p)
			passes[p][i] = []*Instance{in}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		if err := c.Apply(Op{Kind: OpMergeEphemeral, Time: int64(n + 2), Service: k,
			Instances: passes[(n/largeSize)%2][n%largeSize]}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	s, _ := c.Service(k)
	if b.N > 0 && s.Find(largeInstance(0).Key()).Weight < 2 {
		b.Fatal("merges left instance 0 as it was")
	}
}

// BenchmarkLargeServiceFlipRead is a flip followed by the first read of
// the new view's instance list (Catalog.Service), which builds the list
// from the tree: what a change costs when a reader needs the whole list
// after each one (the DNS index, a list render).
func BenchmarkLargeServiceFlipRead(b *testing.B) {
	benchLargeFlips(b, func(c *Catalog, k ServiceKey) {
		if s, _ := c.Service(k); len(s.Instances) != largeSize {
			b.Fatalf("the view lists %d instances", len(s.Instances))
		}
	})
}

// BenchmarkLargeServiceInstance reads one instance of the large service
// right after a change, without building the list (what the checkers do).
func BenchmarkLargeServiceInstance(b *testing.B) {
	c, k := largeCatalog(b)
	ik := largeInstance(4321).Key()
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		if err := c.Apply(Op{Kind: OpSetHealth, Time: int64(n + 2), Service: k,
			Target: ik, Healthy: n%2 == 1, Ephemeral: true}); err != nil {
			b.Fatal(err)
		}
		if in, ok := c.Instance(k, ik); !ok || in.Healthy != (n%2 == 1) {
			b.Fatal("the instance read is not the one just written")
		}
	}
}
