package distro

import (
	"context"
	"fmt"
	"testing"

	"sextant/naming"
)

func benchEngine(b *testing.B) (*Engine, *naming.Catalog) {
	v := fixedView{self: "10.0.0.1:8848", live: []string{"10.0.0.1:8848"}}
	cat := naming.NewCatalog()
	e, err := New(TestConfig(), cat, v, NewNetwork(1).Transport(v.self), quietLog())
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
