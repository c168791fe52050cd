package client

import (
	"testing"
	"time"
)

// BenchmarkSelectOneHealthyInstance measures a read served from memory:
// the held view of a 20-instance service and a weighted pick.
func BenchmarkSelectOneHealthyInstance(b *testing.B) {
	c, _ := newClient(b, testConfig(b, "127.0.0.1:1"))
	e, _ := c.h.getOrCreate("DEFAULT_GROUP@@web", "DEFAULT_GROUP@@web", "")
	svc := svcOf("DEFAULT_GROUP@@web")
	for i := 0; i < 20; i++ {
		svc.Hosts = append(svc.Hosts, Instance{IP: "10.0.0." + itoa(i+1), Port: 80, Weight: float64(i%3) + 0.5, Healthy: i%5 != 0, Enabled: true})
	}
	c.h.update(e, svc, time.Now(), fromServer)
	ref := ServiceRef{ServiceName: "web"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.SelectOneHealthyInstance(b.Context(), ref); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
