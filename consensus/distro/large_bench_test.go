package distro

import (
	"context"
	"fmt"
	"testing"

	"github.com/miekg/dns"

	"sextant/dnsfront"
	"sextant/naming"
)

// largeSize is the size of the service the large benchmarks change.
const largeSize = 10_000

// largeEngine is an engine owning one service of size instances, with the
// DNS front watching its catalog as it does in a node.
func largeEngine(b testing.TB, size int) (*Engine, *naming.Catalog, *dnsfront.Server, naming.ServiceKey, []naming.InstanceKey) {
	e, cat := benchEngine(b)
	k := svc("large")
	iks := make([]naming.InstanceKey, size)
	ins := make([]*naming.Instance, size)
	for i := range ins {
		ins[i] = inst(fmt.Sprintf("10.%d.%d.1", i>>8, i&255), 80, 1)
		iks[i] = ins[i].Key()
	}
	if _, err := e.mergeRecord(Record{Key: k, Instances: ins}, false); err != nil {
		b.Fatal(err)
	}
	cfg := dnsfront.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	d, err := dnsfront.New(cfg, cat, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return e, cat, d, k, iks
}

// BenchmarkLargeServiceApply is a change in a service of 10,000 instances
// on the node that owns it, through Engine.Apply, with the DNS front
// watching: a flip (set-health), a registration (a changed weight), and a
// flip followed by one DNS query of the service (which reads the new
// version), or by one query per 100 flips (a burst of changes between
// two queries).
func BenchmarkLargeServiceApply(b *testing.B) {
	q := new(dns.Msg)
	q.SetQuestion("large.service.nacos.", dns.TypeA)
	flip := func(e *Engine, k naming.ServiceKey, iks []naming.InstanceKey, n int) {
		op := naming.Op{Kind: naming.OpSetHealth, Service: k, Ephemeral: true,
			Target: iks[n%largeSize], Healthy: (n/largeSize)%2 == 1}
		if err := e.Apply(context.Background(), op); err != nil {
			b.Fatal(err)
		}
	}
	query := func(d *dnsfront.Server) {
		if r := d.Resolve(q, false); r == nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
			b.Fatalf("query answered %v", r)
		}
	}
	b.Run("flip", func(b *testing.B) {
		e, _, _, k, iks := largeEngine(b, largeSize)
		b.ReportAllocs()
		for n := 0; b.Loop(); n++ {
			flip(e, k, iks, n)
		}
	})
	// A beat sweep's flips, as the checker writes them (with ExpectBeat):
	// one op at a time, and in groups of 100 ops of the service (a sweep in
	// which 100 of its instances time out together); the figure is per op.
	judged := func(cat *naming.Catalog, k naming.ServiceKey, iks []naming.InstanceKey, n int) naming.Op {
		ik := iks[n%largeSize]
		in, _ := cat.Instance(k, ik)
		return naming.Op{Kind: naming.OpSetHealth, Time: int64(n + 10), Service: k, Ephemeral: true,
			Target: ik, Healthy: (n/largeSize)%2 == 1, ExpectBeat: in.LastBeat()}
	}
	b.Run("sweep-flip", func(b *testing.B) {
		e, cat, _, k, iks := largeEngine(b, largeSize)
		b.ReportAllocs()
		for n := 0; b.Loop(); n++ {
			if err := e.Apply(context.Background(), judged(cat, k, iks, n)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sweep-flip-group/100", func(b *testing.B) {
		e, cat, _, k, iks := largeEngine(b, largeSize)
		ops := make([]naming.Op, 0, 100)
		b.ReportAllocs()
		for n := 0; b.Loop(); n++ {
			if ops = append(ops, judged(cat, k, iks, n)); len(ops) < cap(ops) {
				continue
			}
			for _, err := range e.ApplyGroup(context.Background(), ops) {
				if err != nil {
					b.Fatal(err)
				}
			}
			ops = ops[:0]
		}
	})
	b.Run("register", func(b *testing.B) {
		e, _, _, k, iks := largeEngine(b, largeSize)
		b.ReportAllocs()
		for n := 0; b.Loop(); n++ {
			in := inst(iks[n%largeSize].IP, 80, 0)
			in.Weight = float64(2 + n/largeSize%2)
			if err := e.Apply(context.Background(), naming.Op{Kind: naming.OpRegister, Service: k, Instance: in}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("flip+query", func(b *testing.B) {
		e, _, d, k, iks := largeEngine(b, largeSize)
		b.ReportAllocs()
		for n := 0; b.Loop(); n++ {
			flip(e, k, iks, n)
			query(d)
		}
	})
	b.Run("flip+query/100", func(b *testing.B) {
		e, _, d, k, iks := largeEngine(b, largeSize)
		b.ReportAllocs()
		for n := 0; b.Loop(); n++ {
			flip(e, k, iks, n)
			if n%100 == 99 {
				query(d)
			}
		}
	})
	b.Run("merge", func(b *testing.B) {
		e, _, _, k, iks := largeEngine(b, largeSize)
		b.ReportAllocs()
		for n := 0; b.Loop(); n++ {
			in := inst(iks[n%largeSize].IP, 80, int64(n+10))
			in.Weight = float64(2 + n%2)
			if _, err := e.mergeRecord(Record{Key: k, Instances: []*naming.Instance{in}}, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
