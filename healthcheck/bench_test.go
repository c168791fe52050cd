package healthcheck

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sextant/naming"
)

// BenchmarkSweep measures one sweep over 100k ephemeral instances (1000
// services of 100) in the steady state: every instance beat recently, so the
// sweep only reads.
func BenchmarkSweep(b *testing.B) {
	cat := naming.NewCatalog()
	for s := 0; s < 1000; s++ {
		key := naming.NewServiceKey("", "", fmt.Sprintf("svc-%d", s))
		for i := 0; i < 100; i++ {
			in := &naming.Instance{IP: fmt.Sprintf("10.%d.%d.%d", s/256, s%256, i), Port: 8080,
				Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}
			if err := cat.Apply(naming.Op{Kind: naming.OpRegister, Time: ms(0), Service: key, Instance: in}); err != nil {
				b.Fatal(err)
			}
		}
	}
	w := &catWriter{cat: cat}
	chk, err := NewBeatChecker(DefaultConfig(), cat, w, newFakeClock(t0), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	chk.Sweep(ctx, t0)
	now := t0.Add(10 * time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		chk.Sweep(ctx, now)
	}
	b.StopTimer()
	if n := len(w.appliedOps()); n != 0 {
		b.Fatalf("steady-state sweep applied %d ops", n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100000, "ns/instance")
}
