package consensus

import (
	"context"
	"errors"
	"testing"

	"sextant/naming"
)

func TestStandaloneEnforcesLimits(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Limits = Limits{MaxInstancesPerService: 3, MaxServicesPerNamespace: 2}
	s, cat := openStore(t, cfg)
	ctx := context.Background()
	for _, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		apply(t, s, register(svcA, ip, true))
	}
	before, _ := cat.Service(svcA)
	for name, op := range map[string]naming.Op{
		"ephemeral register":  register(svcA, "10.0.0.4", true),
		"persistent register": register(svcA, "10.0.0.4", false),
		"full beat":           {Kind: naming.OpBeat, Service: svcA, Target: target("10.0.0.4"), Instance: inst("10.0.0.4", true), Ephemeral: true},
	} {
		if err := s.Apply(ctx, op); !errors.Is(err, naming.ErrTooLarge) {
			t.Errorf("%s into a full service: %v", name, err)
		}
	}
	if after, _ := cat.Service(svcA); after != before {
		t.Fatal("a refused op changed the service")
	}
	// What the service already holds may still be replaced and renewed.
	apply(t, s, register(svcA, "10.0.0.2", true))
	apply(t, s, naming.Op{Kind: naming.OpBeat, Service: svcA, Target: target("10.0.0.3"), Instance: inst("10.0.0.3", true), Ephemeral: true})

	apply(t, s, register(naming.NewServiceKey("", "", "second"), "10.0.1.1", true))
	third := naming.NewServiceKey("", "", "third")
	if err := s.Apply(ctx, register(third, "10.0.2.1", true)); !errors.Is(err, naming.ErrTooLarge) {
		t.Fatalf("third service in public: %v", err)
	}
	if err := s.Apply(ctx, createService(third, 0)); !errors.Is(err, naming.ErrTooLarge) {
		t.Fatalf("explicit create of a third service: %v", err)
	}
	if _, ok := cat.Service(third); ok {
		t.Fatal("refused service exists")
	}
	// Another namespace has room of its own.
	apply(t, s, register(svcB, "10.0.3.1", true))
}

func TestCheckLimitsZeroMeansNone(t *testing.T) {
	cat := naming.NewCatalog()
	op := naming.Op{Kind: naming.OpRegister, Service: svcA, Instance: inst("10.0.0.9", true)}
	if err := CheckLimits(Limits{}, op, nil, cat); err != nil {
		t.Fatal(err)
	}
}

// TestNamespacesAreBounded: registrations into ever new namespaces stop
// at MaxNamespaces (public counted), as does explicit creation, while the
// namespaces that exist keep taking services.
func TestNamespacesAreBounded(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Limits = Limits{MaxNamespaces: 3}
	s, cat := openStore(t, cfg)
	ctx := context.Background()
	apply(t, s, register(naming.NewServiceKey("ns1", "", "a"), "10.0.0.1", true))
	apply(t, s, register(naming.NewServiceKey("ns2", "", "a"), "10.0.0.1", true))
	if err := s.Apply(ctx, register(naming.NewServiceKey("ns3", "", "a"), "10.0.0.1", true)); !errors.Is(err, naming.ErrTooLarge) {
		t.Fatalf("a fourth namespace by registration: %v", err)
	}
	if err := s.Apply(ctx, naming.Op{Kind: naming.OpCreateNamespace, Namespace: &naming.Namespace{ID: "ns4", Name: "ns4"}}); !errors.Is(err, naming.ErrTooLarge) {
		t.Fatalf("a fourth namespace by creation: %v", err)
	}
	if n := cat.CountNamespaces(); n != 3 {
		t.Fatalf("%d namespaces after refusals", n)
	}
	apply(t, s, register(naming.NewServiceKey("ns1", "", "b"), "10.0.0.1", true))
	apply(t, s, register(naming.NewServiceKey("", "", "b"), "10.0.0.1", true))
}
