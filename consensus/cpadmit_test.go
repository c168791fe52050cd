package consensus

import (
	"context"
	"errors"
	"testing"
	"time"

	"sextant/naming"
)

// catalogCP is a Raft leader that commits by applying to a catalog.
type catalogCP struct{ cat *naming.Catalog }

func (c catalogCP) Apply(_ context.Context, op naming.Op) error {
	if op.Time == 0 {
		op.Time = time.Now().UnixMilli()
	}
	return c.cat.Apply(op)
}
func (catalogCP) IsLeader() bool { return true }
func (catalogCP) Leader() string { return "self:8848" }

// TestForwardedCPOpIsAdmittedOnTheLeader forwards, as a follower whose
// view lags would, ops the leader's own state refuses: they are refused
// there with the errors a direct write gets, and change nothing.
func TestForwardedCPOpIsAdmittedOnTheLeader(t *testing.T) {
	cat := naming.NewCatalog()
	cfg := DefaultRouterConfig()
	cfg.Limits = Limits{MaxServicesPerNamespace: 1, MaxInstancesPerService: 1}
	r := NewRouter(cfg, cat, nil, catalogCP{cat}, nil, quietLog())
	addr := startLeader(t, r.CPApplyHandler(""))
	f := NewHTTPForwarder("", 5*time.Second)
	ctx := context.Background()
	stamp := func(op naming.Op) naming.Op { op.Time = time.Now().UnixMilli(); return op }

	// MIXED: a persistent registration into a missing service creates it
	// first, on the leader.
	if err := f.ForwardCP(ctx, addr, stamp(register(svcA, "10.0.0.1", false))); err != nil {
		t.Fatalf("forwarded register: %v", err)
	}
	if svc, ok := cat.Service(svcA); !ok || len(svc.Instances) != 1 {
		t.Fatalf("service after a forwarded register: %+v", svc)
	}

	// Limits: a second service, and a second instance, are over them.
	other := naming.NewServiceKey("", "", "other")
	err := f.ForwardCP(ctx, addr, stamp(naming.Op{Kind: naming.OpCreateService, Service: other, Meta: &naming.ServiceMeta{}}))
	if !errors.Is(err, naming.ErrTooLarge) {
		t.Fatalf("forwarded create over max-services-per-namespace: %v", err)
	}
	if err := f.ForwardCP(ctx, addr, stamp(register(svcA, "10.0.0.2", false))); !errors.Is(err, naming.ErrTooLarge) {
		t.Fatalf("forwarded register over max-instances-per-service: %v", err)
	}
	if _, ok := cat.Service(other); ok {
		t.Fatal("a refused create made the service")
	}

	// Server mode: in AP, persistent instances are refused.
	if err := cat.Apply(naming.Op{Kind: naming.OpSetSwitch, Time: time.Now().UnixMilli(), SwitchEntry: "serverMode", SwitchValue: naming.ModeAP}); err != nil {
		t.Fatal(err)
	}
	if err := f.ForwardCP(ctx, addr, stamp(register(svcA, "10.0.0.1", false))); !errors.Is(err, naming.ErrForbidden) {
		t.Fatalf("forwarded persistent register in AP mode: %v", err)
	}
	if svc, _ := cat.Service(svcA); len(svc.Instances) != 1 {
		t.Fatalf("instances after refusals: %d", len(svc.Instances))
	}
}
