package consensus

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sextant/naming"
)

func TestAdmit(t *testing.T) {
	// A catalog with one service holding a persistent and an ephemeral instance.
	cat := naming.NewCatalog()
	for _, op := range []naming.Op{
		{Kind: naming.OpCreateService, Time: 1, Service: svcA, Meta: &naming.ServiceMeta{}},
		{Kind: naming.OpRegister, Time: 1, Service: svcA, Instance: inst("10.0.0.1", false)},
		{Kind: naming.OpRegister, Time: 1, Service: svcA, Instance: inst("10.0.0.2", true)},
	} {
		if err := cat.Apply(op); err != nil {
			t.Fatal(err)
		}
	}
	existing, _ := cat.Service(svcA)
	missing := naming.NewServiceKey("", "", "missing")
	// An empty durable service, and one that only ephemeral data created.
	empty := &naming.Service{Key: svcB, Durable: true}
	memOnly := &naming.Service{Key: svcC, Meta: naming.ServiceMeta{Implicit: true}, Instances: []*naming.Instance{inst("10.0.0.9", true)}}

	type want int
	const (
		ok       want = iota // admitted as is
		creates              // admitted with a Create of the service first
		forbid               // ErrForbidden
		notFound             // ErrNotFound
		conflict             // ErrConflict
	)
	ops := []struct {
		name string
		op   naming.Op
		cur  *naming.Service
		ap   want
		cp   want
		mix  want
	}{
		{"register ephemeral", register(svcA, "10.0.0.3", true), existing, ok, forbid, ok},
		{"register ephemeral, missing service", register(missing, "10.0.0.3", true), nil, ok, forbid, creates},
		{"register persistent", register(svcA, "10.0.0.3", false), existing, forbid, ok, ok},
		{"register persistent, missing service", register(missing, "10.0.0.3", false), nil, forbid, notFound, creates},
		{"re-register persistent as ephemeral", register(svcA, "10.0.0.1", true), existing, conflict, forbid, conflict},
		{"re-register ephemeral as persistent", register(svcA, "10.0.0.2", false), existing, forbid, conflict, conflict},
		{"re-register same class", register(svcA, "10.0.0.1", false), existing, forbid, ok, ok},
		{"light beat", naming.Op{Kind: naming.OpBeat, Service: svcA, Target: target("10.0.0.2")}, existing, ok, forbid, ok},
		{"light beat, missing service", naming.Op{Kind: naming.OpBeat, Service: missing, Target: target("10.0.0.2")}, nil, ok, forbid, ok},
		{"full beat, missing service", naming.Op{Kind: naming.OpBeat, Service: missing, Target: target("10.0.0.2"), Instance: inst("10.0.0.2", true)}, nil, ok, forbid, creates},
		{"deregister ephemeral", naming.Op{Kind: naming.OpDeregister, Service: svcA, Target: target("10.0.0.2"), Ephemeral: true}, existing, ok, ok, ok},
		{"deregister persistent", naming.Op{Kind: naming.OpDeregister, Service: svcA, Target: target("10.0.0.1")}, existing, ok, ok, ok},
		{"update ephemeral", naming.Op{Kind: naming.OpUpdateInstance, Service: svcA, Target: target("10.0.0.2"), Patch: &naming.InstancePatch{}}, existing, ok, ok, ok},
		{"update persistent", naming.Op{Kind: naming.OpUpdateInstance, Service: svcA, Target: target("10.0.0.1"), Ephemeral: true, Patch: &naming.InstancePatch{}}, existing, forbid, ok, ok},
		{"set health persistent", naming.Op{Kind: naming.OpSetHealth, Service: svcA, Target: target("10.0.0.1")}, existing, ok, ok, ok},
		{"set health ephemeral", naming.Op{Kind: naming.OpSetHealth, Service: svcA, Target: target("10.0.0.2"), Ephemeral: true, ExpectBeat: 1}, existing, ok, ok, ok},
		{"beat check on a persistent instance", naming.Op{Kind: naming.OpDeregister, Service: svcA, Target: target("10.0.0.1"), Ephemeral: true, ExpectBeat: 1}, existing, conflict, conflict, conflict},
		{"create service", createService(missing, 0), nil, forbid, ok, ok},
		{"update service", naming.Op{Kind: naming.OpUpdateService, Service: svcA, Meta: &naming.ServiceMeta{}}, existing, forbid, ok, ok},
		{"delete service with instances", naming.Op{Kind: naming.OpDeleteService, Service: svcA}, existing, forbid, conflict, conflict},
		{"delete service with ephemeral instances", naming.Op{Kind: naming.OpDeleteService, Service: svcC}, memOnly, forbid, conflict, conflict},
		{"delete empty service", naming.Op{Kind: naming.OpDeleteService, Service: svcB}, empty, forbid, ok, ok},
		{"update service known from ephemeral data only", naming.Op{Kind: naming.OpUpdateService, Service: svcC, Meta: &naming.ServiceMeta{}}, memOnly, forbid, creates, creates},
		{"update cluster", naming.Op{Kind: naming.OpUpdateCluster, Service: svcA, Cluster: &naming.ClusterConfig{Name: "c", HealthChecker: naming.HealthChecker{Type: "TCP"}}}, existing, forbid, ok, ok},
		{"replicated ephemeral set", naming.Op{Kind: naming.OpReplaceEphemeral, Service: missing, Instances: []*naming.Instance{inst("10.0.0.3", true)}}, nil, ok, ok, ok},
		{"create namespace", naming.Op{Kind: naming.OpCreateNamespace, Namespace: &naming.Namespace{ID: "x"}}, nil, ok, ok, ok},
		{"set switch", setSwitch("serverMode", "MIXED"), nil, ok, ok, ok},
	}
	for _, tc := range ops {
		for _, m := range []struct {
			mode string
			want want
		}{{naming.ModeAP, tc.ap}, {naming.ModeCP, tc.cp}, {naming.ModeMixed, tc.mix}, {"", tc.mix}} {
			t.Run(m.mode+"/"+tc.name, func(t *testing.T) {
				sw := naming.DefaultSwitches()
				sw.ServerMode = m.mode
				tc.op.Time = 7
				adm, err := Admit(sw, tc.op, tc.cur)
				switch m.want {
				case ok, creates:
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					if (adm.Create != nil) != (m.want == creates) {
						t.Fatalf("create %+v", adm.Create)
					}
					if c := adm.Create; c != nil {
						if c.Kind != naming.OpCreateService || c.Service != tc.op.Service || c.Meta == nil || !c.Meta.Implicit || c.Time != 7 {
							t.Fatalf("create %+v", c)
						}
						if err := c.Validate(); err != nil {
							t.Fatal(err)
						}
					}
					if adm.Op.Kind != tc.op.Kind || adm.Op.Service != tc.op.Service {
						t.Fatalf("op changed: %+v", adm.Op)
					}
				case forbid:
					wantErr(t, err, naming.ErrForbidden, "server mode is "+m.mode)
				case notFound:
					wantErr(t, err, naming.ErrNotFound, "create it first")
				case conflict:
					wantErr(t, err, naming.ErrConflict, "")
				}
			})
		}
	}
}

func wantErr(t *testing.T, err, kind error, text string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("got %v, want %v", err, kind)
	}
	if !strings.Contains(err.Error(), text) {
		t.Fatalf("message %q does not say %q", err, text)
	}
}

func TestFixClass(t *testing.T) {
	cat := naming.NewCatalog()
	cat.Apply(naming.Op{Kind: naming.OpRegister, Time: 1, Service: svcA, Instance: inst("10.0.0.1", false)})
	cat.Apply(naming.Op{Kind: naming.OpRegister, Time: 1, Service: svcA, Instance: inst("10.0.0.2", true)})
	cur, _ := cat.Service(svcA)
	for _, tc := range []struct {
		kind    naming.OpKind
		ip      string
		sent    bool
		want    bool
		service *naming.Service
	}{
		{naming.OpDeregister, "10.0.0.1", true, false, cur},
		{naming.OpDeregister, "10.0.0.2", false, true, cur},
		{naming.OpUpdateInstance, "10.0.0.1", true, false, cur},
		{naming.OpSetHealth, "10.0.0.2", false, true, cur},
		{naming.OpDeregister, "10.0.0.9", true, true, cur}, // unknown: as sent
		{naming.OpDeregister, "10.0.0.1", true, true, nil}, // no service: as sent
	} {
		op := FixClass(naming.Op{Kind: tc.kind, Service: svcA, Target: target(tc.ip), Ephemeral: tc.sent}, tc.service)
		if op.Ephemeral != tc.want || op.IsEphemeral() != tc.want {
			t.Errorf("%v %s sent %v: got %v", tc.kind, tc.ip, tc.sent, op.Ephemeral)
		}
	}
}

// TestModesThroughStandalone checks that the writer enforces the mode and
// that a refused op changes nothing.
func TestModesThroughStandalone(t *testing.T) {
	s, cat := openStore(t, testConfig(t.TempDir()))
	apply(t, s, setSwitch("serverMode", "CP"))
	err := s.Apply(context.Background(), register(svcA, "10.0.0.1", false))
	wantErr(t, err, naming.ErrNotFound, "service not found")
	wantErr(t, s.Apply(context.Background(), register(svcA, "10.0.0.1", true)), naming.ErrForbidden, "CP")
	if _, ok := cat.Service(svcA); ok {
		t.Fatal("a refused registration created the service")
	}
	apply(t, s, createService(svcA, 0))
	apply(t, s, register(svcA, "10.0.0.1", false))
	wantErr(t, s.Apply(context.Background(), naming.Op{Kind: naming.OpBeat, Service: svcA, Target: target("10.0.0.1")}), naming.ErrForbidden, "CP")

	apply(t, s, setSwitch("serverMode", "AP"))
	wantErr(t, s.Apply(context.Background(), createService(svcB, 0)), naming.ErrForbidden, "AP")
	wantErr(t, s.Apply(context.Background(), register(svcA, "10.0.0.2", false)), naming.ErrForbidden, "AP")
	apply(t, s, register(svcB, "10.0.1.1", true))
	// Leftover persistent instances can still be removed in AP.
	apply(t, s, naming.Op{Kind: naming.OpDeregister, Service: svcA, Target: target("10.0.0.1"), Ephemeral: true})
	if find(cat, svcA, "10.0.0.1") != nil {
		t.Fatal("deregister in AP did not remove the persistent instance")
	}
}
