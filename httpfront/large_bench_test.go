package httpfront

import (
	"fmt"
	"testing"

	"sextant/naming"
)

// largeSize is the service size at which a list cache miss must stay cheap.
const largeSize = 10000

func largeInstance(i int) *naming.Instance {
	return &naming.Instance{
		IP: fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255), Port: 8080, Cluster: naming.DefaultCluster, Weight: 1,
		Healthy: true, Enabled: true, Ephemeral: true, Metadata: map[string]string{"zone": "a", "version": "1.2.3"},
	}
}

// largeService is a catalog holding one service of largeSize instances,
// and the keys of its instances.
func largeService(tb testing.TB) (*naming.Catalog, []naming.InstanceKey) {
	tb.Helper()
	c := naming.NewCatalog()
	ins := make([]*naming.Instance, largeSize)
	keys := make([]naming.InstanceKey, largeSize)
	for i := range ins {
		ins[i] = largeInstance(i)
		keys[i] = ins[i].Key()
	}
	if err := c.Apply(naming.Op{Kind: naming.OpMergeEphemeral, Time: 1, Service: demo, Instances: ins}); err != nil {
		tb.Fatal(err)
	}
	if s, _ := c.Service(demo); len(s.Instances) != largeSize {
		tb.Fatalf("large service holds %d instances", len(s.Instances))
	}
	return c, keys
}

// BenchmarkListMissLarge is an instance/list cache miss of a service of
// 10,000 instances right after one of them changed (its health flipped,
// outside the timed part): each get asks for the revision after the one
// cached, as pollers do after every change.
func BenchmarkListMissLarge(b *testing.B) {
	c, keys := largeService(b)
	v := listView{key: demo, cacheMillis: 3000}
	lc := newListCache(16, 1<<30)
	svc, _ := c.Service(demo)
	lc.get(svc, v)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		if err := c.Apply(naming.Op{Kind: naming.OpSetHealth, Time: int64(n + 2), Service: demo, Ephemeral: true,
			Target: keys[(n*7919)%largeSize], Healthy: (n/largeSize)%2 == 1}); err != nil {
			b.Fatal(err)
		}
		svc, _ = c.Service(demo)
		b.StartTimer()
		lc.get(svc, v)
	}
}

// BenchmarkListRenderLarge renders the list of a service of 10,000
// instances from nothing: a view no request has rendered before.
func BenchmarkListRenderLarge(b *testing.B) {
	c, _ := largeService(b)
	svc, _ := c.Service(demo)
	v := listView{key: demo, cacheMillis: 3000}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		renderFresh(svc, v)
	}
}
