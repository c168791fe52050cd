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

// droppingWriter is a catWriter that records the services it drops.
type droppingWriter struct {
	*catWriter
	drops []naming.ServiceKey
}

func (w *droppingWriter) DropEmpty(k naming.ServiceKey) error {
	if err := w.cat.DropEmpty(k); err != nil {
		return err
	}
	w.drops = append(w.drops, k)
	return nil
}

// With a writer that drops on this node alone, every node collects its
// own empty records that are not durable, owner or not, after the grace
// and not before; a durable record is still deleted only by its owner
// through the writer (Raft).
func TestEmptyServiceDroppedOnEveryNode(t *testing.T) {
	cat := naming.NewCatalog()
	w := &droppingWriter{catWriter: &catWriter{cat: cat}}
	b, err := NewBeatChecker(DefaultConfig(), cat, w, newFakeClock(t0), nil, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	w.setOwns(func(naming.ServiceKey) bool { return false })
	memory := naming.NewServiceKey("", "", "memory")
	durable := naming.NewServiceKey("", "", "durable")
	ik := register(t, cat, memory, "10.0.3.1", true, nil, 0)
	cat.Apply(naming.Op{Kind: naming.OpDeregister, Time: ms(time.Second), Service: memory, Ephemeral: true, Target: ik})
	if err := cat.Apply(naming.Op{Kind: naming.OpCreateService, Time: ms(0), Service: durable, Meta: &naming.ServiceMeta{Implicit: true}}); err != nil {
		t.Fatal(err)
	}
	for at := 2 * time.Second; at < 62*time.Second; at += time.Second {
		b.Sweep(context.Background(), t0.Add(at))
	}
	if _, ok := cat.Service(memory); !ok || len(w.drops) != 0 {
		t.Fatalf("dropped before the grace passed (drops %v)", w.drops)
	}
	b.Sweep(context.Background(), t0.Add(62*time.Second))
	if _, ok := cat.Service(memory); ok {
		t.Fatal("an empty record that is not durable outlived its grace on a node that does not own it")
	}
	if got := b.Stats().EmptyDropped; got != 1 {
		t.Fatalf("EmptyDropped = %d, want 1", got)
	}
	if _, ok := cat.Service(durable); !ok || len(w.appliedOps()) != 0 {
		t.Fatalf("a durable record was deleted by a node that does not own it (ops %v)", w.appliedOps())
	}
	// Once owned, the durable record goes through the writer after its grace.
	w.setOwns(func(naming.ServiceKey) bool { return true })
	for at := 63 * time.Second; at <= 124*time.Second; at += time.Second {
		b.Sweep(context.Background(), t0.Add(at))
	}
	if _, ok := cat.Service(durable); ok {
		t.Fatal("the owner did not delete an empty durable record")
	}
	ops := w.appliedOps()
	if len(ops) != 1 || ops[0].Kind != naming.OpDeleteService || ops[0].Service != durable {
		t.Fatalf("ops through the writer: %v, want one deletion of %s", ops, durable)
	}
	if len(w.drops) != 1 {
		t.Fatalf("drops %v, want only %s", w.drops, memory)
	}
}
