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

// largeViews returns count published views of a service of largeSize
// instances, each newer than and differing in one instance's health from
// the one before.
func largeViews(tb testing.TB, count int) []*naming.Service {
	tb.Helper()
	c := naming.NewCatalog()
	ins := make([]*naming.Instance, largeSize)
	for i := range ins {
		ins[i] = largeInstance(i)
	}
	if err := c.Apply(naming.Op{Kind: naming.OpMergeEphemeral, Time: 1, Service: demo, Instances: ins}); err != nil {
		tb.Fatal(err)
	}
	views := make([]*naming.Service, 0, count)
	for i := 0; i < count; i++ {
		if i > 0 {
			if err := c.Apply(naming.Op{Kind: naming.OpSetHealth, Time: int64(i + 1), Service: demo, Ephemeral: true,
				Target: ins[(i*7919)%largeSize].Key(), Healthy: false}); err != nil {
				tb.Fatal(err)
			}
		}
		s, _ := c.Service(demo)
		views = append(views, s)
	}
	if len(views[0].Instances) != largeSize || (count > 1 && views[0].Revision >= views[count-1].Revision) {
		tb.Fatalf("views of %d instances, revisions %d to %d", len(views[0].Instances), views[0].Revision, views[count-1].Revision)
	}
	return views
}

// BenchmarkListMissLarge is an instance/list cache miss of a service of
// 10,000 instances right after one of them changed: each get asks for the
// revision after the one cached, as pollers do after every change.
func BenchmarkListMissLarge(b *testing.B) {
	views := largeViews(b, 256)
	v := listView{key: demo, cacheMillis: 3000}
	var lc *listCache
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		i := n % (len(views) - 1)
		if i == 0 { // start the chain again on a cache holding its first view
			b.StopTimer()
			lc = newListCache(16, 1<<30)
			lc.get(views[0], v)
			b.StartTimer()
		}
		lc.get(views[i+1], v)
	}
}

// BenchmarkListRenderLarge renders the list of a service of 10,000
// instances from nothing: a view no request has rendered before.
func BenchmarkListRenderLarge(b *testing.B) {
	svc := largeViews(b, 1)[0]
	v := listView{key: demo, cacheMillis: 3000}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		renderListHead(svc, v)
	}
}
