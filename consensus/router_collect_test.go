package consensus

import (
	"context"
	"errors"
	"testing"
	"time"

	"sextant/naming"
)

// DropEmpty removes from this node's catalog only an empty service whose
// record is not durable; a durable record (Raft's), a service with an
// instance, and one whose durable create is still being committed stay.
func TestDropEmpty(t *testing.T) {
	cat, cp, r := outageRouter(50 * time.Millisecond)
	t.Cleanup(func() { r.Close() })
	apply := func(op naming.Op) {
		t.Helper()
		if err := cat.Apply(op); err != nil {
			t.Fatal(err)
		}
	}
	register := func(k naming.ServiceKey, ip string) {
		apply(naming.Op{Kind: naming.OpRegister, Time: 1, Service: k, Instance: ephemeralInstance(ip)})
	}
	deregister := func(k naming.ServiceKey, ip string) {
		apply(naming.Op{Kind: naming.OpDeregister, Time: 2, Service: k, Ephemeral: true, Target: ephemeralInstance(ip).Key()})
	}
	present := func(k naming.ServiceKey) bool { _, ok := cat.Service(k); return ok }

	empty := naming.NewServiceKey("", "", "empty")
	register(empty, "10.9.0.1")
	deregister(empty, "10.9.0.1")
	if err := r.DropEmpty(empty); err != nil || present(empty) {
		t.Fatalf("empty service that is not durable: err %v, still present %v", err, present(empty))
	}
	if err := r.DropEmpty(empty); err != nil {
		t.Fatalf("an absent service: %v", err)
	}

	// What DropEmpty relies on when an instance arrives between its check
	// and its deletion: the deletion keeps the ephemeral instance.
	raced := naming.NewServiceKey("", "", "raced")
	register(raced, "10.9.0.4")
	apply(naming.Op{Kind: naming.OpDeleteService, Time: 3, Service: raced})
	if s, ok := cat.Service(raced); !ok || len(s.Instances) != 1 {
		t.Fatal("a service deletion lost an ephemeral instance")
	}

	busy := naming.NewServiceKey("", "", "busy")
	register(busy, "10.9.0.2")
	if err := r.DropEmpty(busy); !errors.Is(err, naming.ErrConflict) || !present(busy) {
		t.Fatalf("a service with an instance: err %v, present %v", err, present(busy))
	}

	durable := naming.NewServiceKey("", "", "durable")
	apply(naming.Op{Kind: naming.OpCreateService, Time: 1, Service: durable, Meta: &naming.ServiceMeta{Implicit: true}})
	if err := r.DropEmpty(durable); !errors.Is(err, naming.ErrConflict) || !present(durable) {
		t.Fatalf("a durable service: err %v, present %v", err, present(durable))
	}

	// MIXED, no raft leader: the durable create of a new service waits in
	// the background; its record is left to Raft until that ends.
	pending := naming.NewServiceKey("", "", "pending")
	if err := r.Apply(context.Background(), naming.Op{Kind: naming.OpRegister, Service: pending, Instance: ephemeralInstance("10.9.0.3")}); err != nil {
		t.Fatal(err)
	}
	deregister(pending, "10.9.0.3")
	if err := r.DropEmpty(pending); !errors.Is(err, naming.ErrConflict) || !present(pending) {
		t.Fatalf("a service being made durable: err %v, present %v", err, present(pending))
	}
	cp.elect() // the create commits (this fake leaves the catalog as is)
	deadline := time.Now().Add(5 * time.Second)
	for r.DropEmpty(pending) != nil {
		if time.Now().After(deadline) {
			t.Fatal("still refused after the durable create ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if present(pending) {
		t.Fatal("dropped but still present")
	}
}

// A lone node in AP mode drops an empty service that registrations made
// (its record is not in the log) but never a durable one.
func TestStandaloneDropEmpty(t *testing.T) {
	s, cat := openStore(t, testConfig(t.TempDir()))
	apply(t, s, createService(svcB, 0))
	apply(t, s, setSwitch("serverMode", naming.ModeAP))
	apply(t, s, register(svcA, "10.9.1.1", true))
	if err := s.DropEmpty(svcA); !errors.Is(err, naming.ErrConflict) {
		t.Fatalf("a service with an instance: %v", err)
	}
	apply(t, s, naming.Op{Kind: naming.OpDeregister, Service: svcA, Ephemeral: true, Target: target("10.9.1.1")})
	if err := s.DropEmpty(svcA); err != nil {
		t.Fatal(err)
	}
	if _, ok := cat.Service(svcA); ok {
		t.Fatal("an empty service that is not durable stayed")
	}
	if err := s.DropEmpty(svcB); !errors.Is(err, naming.ErrConflict) {
		t.Fatalf("a durable service: %v", err)
	}
	if _, ok := cat.Service(svcB); !ok {
		t.Fatal("a durable service was dropped")
	}
}
