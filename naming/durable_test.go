package naming

import (
	"errors"
	"testing"
)

// DropEmpty removes an empty record that is not durable, and nothing
// else: not a durable record (Raft state), not a record with instances.
// Watchers hear of the removal, and a later registration makes the
// service again.
func TestDropEmpty(t *testing.T) {
	c := NewCatalog()
	memory, durable, busy := svc("memory"), svc("durable"), svc("busy")
	reg(t, c, memory, "10.0.0.1", 80, true, 1)
	if err := c.Apply(Op{Kind: OpDeregister, Time: 2, Service: memory, Ephemeral: true,
		Target: InstanceKey{IP: "10.0.0.1", Port: 80, Cluster: DefaultCluster}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(Op{Kind: OpCreateService, Time: 3, Service: durable, Meta: &ServiceMeta{}}); err != nil {
		t.Fatal(err)
	}
	reg(t, c, busy, "10.0.0.2", 80, true, 4)

	var heard []ServiceKey
	cancel := c.Watch(func(k ServiceKey) { heard = append(heard, k) })
	defer cancel()
	if err := c.DropEmpty(durable); !errors.Is(err, ErrConflict) {
		t.Fatalf("durable record: %v, want a conflict", err)
	}
	if err := c.DropEmpty(busy); !errors.Is(err, ErrConflict) {
		t.Fatalf("record with an instance: %v, want a conflict", err)
	}
	if err := c.DropEmpty(svc("absent")); err != nil {
		t.Fatalf("absent service: %v", err)
	}
	if err := c.DropEmpty(memory); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Service(memory); ok {
		t.Fatal("the empty record is still there")
	}
	for _, k := range []ServiceKey{durable, busy} {
		if _, ok := c.Service(k); !ok {
			t.Fatalf("%s was dropped", k)
		}
	}
	if len(heard) != 1 || heard[0] != memory {
		t.Fatalf("watchers heard %v, want only %s", heard, memory)
	}
	reg(t, c, memory, "10.0.0.1", 80, true, 5)
	if s, ok := c.Service(memory); !ok || s.Len() != 1 {
		t.Fatal("a registration after the drop did not make the service again")
	}
}
