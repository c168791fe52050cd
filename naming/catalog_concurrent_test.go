package naming

import (
	"fmt"
	"sync"
	"testing"
)

// Writers of several services, two per service, race with catalog-wide
// ops (service records, a persistent restore): no write is lost, every
// view's digests match its instances and revisions stay unique. Run with
// -race.
func TestConcurrentWritersAndCatalogWideOps(t *testing.T) {
	c := NewCatalog()
	const services, perWriter = 4, 150
	keys := make([]ServiceKey, services)
	for i := range keys {
		keys[i] = NewServiceKey("", "", fmt.Sprintf("conc-%d", i))
	}
	var wg sync.WaitGroup
	for w := range 2 * services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := keys[w%services]
			for i := range perWriter {
				in := &Instance{IP: fmt.Sprintf("10.%d.%d.%d", w, i/250, i%250), Port: 80, Cluster: DefaultCluster,
					Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}
				if err := c.Apply(Op{Kind: OpRegister, Time: int64(i + 1), Service: k, Instance: in}); err != nil {
					t.Error(err)
					return
				}
				if i%3 == 0 {
					if err := c.Apply(Op{Kind: OpSetHealth, Time: int64(i + 1), Service: k, Target: in.Key(), Healthy: false, Ephemeral: true}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			k := keys[n%services]
			_ = c.Apply(Op{Kind: OpCreateService, Time: int64(n + 1), Service: k, Meta: &ServiceMeta{ProtectThreshold: 0.1}})
			_ = c.Apply(Op{Kind: OpUpdateService, Time: int64(n + 1), Service: k, Meta: &ServiceMeta{ProtectThreshold: float64(n%5) / 10}})
			if n%10 == 0 {
				c.RestorePersistent(c.PersistentState(), int64(n+1))
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-done
	seen := map[uint64]bool{}
	for _, k := range keys {
		s, ok := c.Service(k)
		if !ok || len(s.Instances) != 2*perWriter {
			t.Fatalf("%v holds %d instances, want %d", k, s.Len(), 2*perWriter)
		}
		unhealthy := 0
		for _, in := range s.Instances {
			if !in.Healthy {
				unhealthy++
			}
		}
		if want := 2 * ((perWriter + 2) / 3); unhealthy != want {
			t.Fatalf("%v has %d unhealthy instances, want %d", k, unhealthy, want)
		}
		fresh := &Service{Key: s.Key, Meta: s.Meta, Instances: s.Instances}
		if checksum(fresh) != s.Checksum || ephemeralChecksum(fresh) != s.EphemeralChecksum {
			t.Fatalf("%v: digests differ from its instances'", k)
		}
		if seen[s.Revision] {
			t.Fatalf("revision %d used twice", s.Revision)
		}
		seen[s.Revision] = true
	}
	if f := c.HealthFlips(); f.ToUnhealthy != uint64(services*2*((perWriter+2)/3)) {
		t.Fatalf("%d flips to unhealthy counted, want %d", f.ToUnhealthy, services*2*((perWriter+2)/3))
	}
}
