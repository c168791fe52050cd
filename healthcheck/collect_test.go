package healthcheck

import (
	"context"
	"testing"
	"time"

	"sextant/naming"
)

// A service a registration created, left without instances, is deleted by
// its owner once EmptyServiceGrace passes; a service created explicitly,
// or one that gets an instance again, is kept.
func TestEmptyServiceCollected(t *testing.T) {
	f := newFixture(t)
	churned := naming.NewServiceKey("", "", "churned")
	explicit := naming.NewServiceKey("", "", "explicit")
	ik := register(t, f.cat, churned, "10.0.2.1", true, nil, 0)
	if err := f.cat.Apply(naming.Op{Kind: naming.OpCreateService, Time: ms(0), Service: explicit, Meta: &naming.ServiceMeta{}}); err != nil {
		t.Fatal(err)
	}
	f.sweep(0)
	if err := f.cat.Apply(naming.Op{Kind: naming.OpDeregister, Time: ms(time.Second), Service: churned, Ephemeral: true, Target: ik}); err != nil {
		t.Fatal(err)
	}
	for at := 2 * time.Second; at <= 61*time.Second; at += time.Second {
		f.sweep(at)
	}
	if _, ok := f.cat.Service(churned); !ok {
		t.Fatal("deleted before its grace passed")
	}
	f.sweep(62 * time.Second)
	if _, ok := f.cat.Service(churned); ok {
		t.Fatal("an empty implicit service outlived its grace")
	}
	if _, ok := f.cat.Service(explicit); !ok {
		t.Fatal("an explicitly created service was collected")
	}
	// Emptied, then registered into again before the grace ran out: kept.
	again := naming.NewServiceKey("", "", "again")
	ik = register(t, f.cat, again, "10.0.2.2", true, nil, 62*time.Second)
	f.sweep(63 * time.Second)
	f.cat.Apply(naming.Op{Kind: naming.OpDeregister, Time: ms(64 * time.Second), Service: again, Ephemeral: true, Target: ik})
	f.sweep(65 * time.Second)
	register(t, f.cat, again, "10.0.2.3", true, nil, 100*time.Second)
	for at := 100 * time.Second; at <= 130*time.Second; at += 5 * time.Second {
		beat(t, f.cat, again, naming.InstanceKey{IP: "10.0.2.3", Port: 8080, Cluster: naming.DefaultCluster}, at)
		f.b.Sweep(context.Background(), t0.Add(at))
	}
	if _, ok := f.cat.Service(again); !ok {
		t.Fatal("a service with an instance again was collected")
	}
}
