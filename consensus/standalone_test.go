package consensus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"sextant/naming"
)

// fillState applies one of every kind of CP data, plus ephemeral instances.
func fillState(t *testing.T, s *Standalone) {
	t.Helper()
	apply(t, s, naming.Op{Kind: naming.OpCreateNamespace, Namespace: &naming.Namespace{ID: "dev", Name: "Development", Quota: 50}})
	apply(t, s, naming.Op{Kind: naming.OpCreateNamespace, Namespace: &naming.Namespace{ID: "gone", Name: "Gone"}})
	apply(t, s, naming.Op{Kind: naming.OpDeleteNamespace, Namespace: &naming.Namespace{ID: "gone"}})
	apply(t, s, setSwitch("defaultCacheMillis", "4321"))
	apply(t, s, setSwitch("pushEnabled", "false"))
	apply(t, s, createService(svcA, 0.3))
	apply(t, s, createService(svcB, 0))
	apply(t, s, naming.Op{Kind: naming.OpUpdateCluster, Service: svcA, Cluster: &naming.ClusterConfig{Name: "edge",
		HealthChecker: naming.HealthChecker{Type: "HTTP", Path: "/health"}, CheckPort: 9000}})
	apply(t, s, register(svcA, "10.0.0.1", false))
	apply(t, s, register(svcA, "10.0.0.2", false))
	apply(t, s, register(svcB, "10.0.1.1", false))
	w := 7.5
	apply(t, s, naming.Op{Kind: naming.OpUpdateInstance, Service: svcA, Target: target("10.0.0.2"), Patch: &naming.InstancePatch{Weight: &w}})
	apply(t, s, naming.Op{Kind: naming.OpSetHealth, Service: svcA, Target: target("10.0.0.1"), Healthy: false,
		Check: &naming.CheckResult{Time: 99, Reason: "connection refused"}})
	apply(t, s, register(svcA, "10.9.9.9", true))
	apply(t, s, register(naming.NewServiceKey("", "", "implicit"), "10.0.2.1", false))
}

func TestRestartKeepsPersistentState(t *testing.T) {
	dir := t.TempDir()
	s, cat := openStore(t, testConfig(dir))
	fillState(t, s)
	want := persistentJSON(t, cat)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, cat2 := openStore(t, testConfig(dir))
	if got := persistentJSON(t, cat2); got != want {
		t.Fatalf("state after restart differs:\n got %s\nwant %s", got, want)
	}
	if find(cat2, svcA, "10.9.9.9") != nil {
		t.Error("ephemeral instance survived a restart")
	}
	if in := find(cat2, svcA, "10.0.0.1"); in == nil || in.Healthy || in.Check.Reason != "connection refused" {
		t.Errorf("persistent health not kept: %+v", in)
	}
	if in := find(cat2, svcA, "10.0.0.2"); in == nil || in.Weight != 7.5 {
		t.Errorf("instance update not kept: %+v", in)
	}
	if sw := cat2.Switches(); sw.DefaultCacheMillis != 4321 || sw.PushEnabled {
		t.Errorf("switches not kept: %+v", sw)
	}
	if ns, ok := cat2.Namespace("dev"); !ok || ns.Name != "Development" || ns.Quota != 50 {
		t.Errorf("namespace not kept: %+v %v", ns, ok)
	}
	if _, ok := cat2.Namespace("gone"); ok {
		t.Error("deleted namespace came back")
	}
	if sv, ok := cat2.Service(svcA); !ok || sv.Meta.ProtectThreshold != 0.3 || sv.Meta.Cluster("edge").HealthChecker.Path != "/health" {
		t.Errorf("service definition not kept: %+v", sv)
	}
	if sv, ok := cat2.Service(naming.NewServiceKey("", "", "implicit")); !ok || !sv.Meta.Implicit {
		t.Errorf("implicitly created service not kept as implicit: %+v", sv)
	}
	// And it goes on working: a delete after restart sticks too.
	apply(t, s2, naming.Op{Kind: naming.OpDeregister, Service: svcB, Target: target("10.0.1.1")})
	apply(t, s2, naming.Op{Kind: naming.OpDeleteService, Service: svcB})
	want = persistentJSON(t, cat2)
	s2.Close()
	_, cat3 := openStore(t, testConfig(dir))
	if got := persistentJSON(t, cat3); got != want {
		t.Fatalf("second restart:\n got %s\nwant %s", got, want)
	}
	if _, ok := cat3.Service(svcB); ok {
		t.Error("deleted service came back")
	}
}

func TestEphemeralOpsAreNotLogged(t *testing.T) {
	dir := t.TempDir()
	s, cat := openStore(t, testConfig(dir))
	apply(t, s, createService(svcA, 0))
	before := s.seq
	apply(t, s, register(svcA, "10.0.0.1", true))
	apply(t, s, naming.Op{Kind: naming.OpBeat, Service: svcA, Target: target("10.0.0.1")})
	apply(t, s, naming.Op{Kind: naming.OpSetHealth, Service: svcA, Target: target("10.0.0.1"), Ephemeral: true})
	apply(t, s, naming.Op{Kind: naming.OpDeregister, Service: svcA, Target: target("10.0.0.1"), Ephemeral: true})
	if s.seq != before {
		t.Fatalf("ephemeral ops wrote %d records", s.seq-before)
	}
	if find(cat, svcA, "10.0.0.1") != nil {
		t.Fatal("ephemeral deregister did not apply")
	}
}

func TestDeregisterWithWrongEphemeralFlag(t *testing.T) {
	dir := t.TempDir()
	s, cat := openStore(t, testConfig(dir))
	apply(t, s, register(svcA, "10.0.0.1", false))
	apply(t, s, register(svcA, "10.0.0.2", true))
	// The client says ephemeral, the instance is persistent: it must go, durably.
	apply(t, s, naming.Op{Kind: naming.OpDeregister, Service: svcA, Target: target("10.0.0.1"), Ephemeral: true})
	// The client says persistent, the instance is ephemeral: it goes, without a record.
	seq := s.seq
	apply(t, s, naming.Op{Kind: naming.OpDeregister, Service: svcA, Target: target("10.0.0.2"), Ephemeral: false})
	if s.seq != seq {
		t.Error("ephemeral deregister was logged")
	}
	if find(cat, svcA, "10.0.0.1") != nil || find(cat, svcA, "10.0.0.2") != nil {
		t.Fatal("deregister did not remove")
	}
	// Updating with the wrong flag reaches the stored instance too.
	apply(t, s, register(svcA, "10.0.0.3", false))
	w := 3.0
	apply(t, s, naming.Op{Kind: naming.OpUpdateInstance, Service: svcA, Target: target("10.0.0.3"), Ephemeral: true, Patch: &naming.InstancePatch{Weight: &w}})
	s.Close()
	_, cat2 := openStore(t, testConfig(dir))
	if find(cat2, svcA, "10.0.0.1") != nil {
		t.Fatal("persistent instance deregistered with ephemeral=true came back after restart")
	}
	if in := find(cat2, svcA, "10.0.0.3"); in == nil || in.Weight != 3 {
		t.Fatalf("update with ephemeral=true was not stored: %+v", in)
	}
}

func TestDeregisterOfAbsentInstanceIsNotAnError(t *testing.T) {
	s, _ := openStore(t, testConfig(t.TempDir()))
	seq := s.seq
	apply(t, s, naming.Op{Kind: naming.OpDeregister, Service: svcA, Target: target("10.0.0.1")})
	if s.seq != seq {
		t.Error("a deregister that changed nothing was logged")
	}
}

func TestRejectedOpsChangeNothing(t *testing.T) {
	dir := t.TempDir()
	s, cat := openStore(t, testConfig(dir))
	apply(t, s, createService(svcA, 0))
	before, seq := persistentJSON(t, cat), s.seq
	for _, tc := range []struct {
		op   naming.Op
		kind error
	}{
		{createService(svcA, 0), naming.ErrConflict},
		{naming.Op{Kind: naming.OpUpdateService, Service: svcB, Meta: &naming.ServiceMeta{}}, naming.ErrNotFound},
		{naming.Op{Kind: naming.OpSetHealth, Service: svcA, Target: target("10.0.0.9")}, naming.ErrNotFound},
		{naming.Op{Kind: naming.OpCreateNamespace, Namespace: &naming.Namespace{ID: "bad id"}}, naming.ErrInvalid},
		{setSwitch("serverMode", "XP"), naming.ErrInvalid},
		{naming.Op{Kind: naming.OpRegister, Service: svcA, Instance: &naming.Instance{IP: "nope", Port: 1, Cluster: "DEFAULT"}}, naming.ErrInvalid},
		{naming.Op{Kind: naming.OpDeleteNamespace, Namespace: &naming.Namespace{ID: "missing"}}, naming.ErrNotFound},
	} {
		err := s.Apply(context.Background(), tc.op)
		if !errors.Is(err, tc.kind) {
			t.Errorf("%v: got %v, want %v", tc.op.Kind, err, tc.kind)
		}
	}
	if s.seq != seq {
		t.Errorf("rejected ops left %d records in the log", s.seq-seq)
	}
	s.Close()
	_, cat2 := openStore(t, testConfig(dir))
	if got := persistentJSON(t, cat2); got != before {
		t.Fatalf("rejected ops changed the stored state:\n got %s\nwant %s", got, before)
	}
}

func TestMixedRegistrationCreatesServiceDurably(t *testing.T) {
	dir := t.TempDir()
	s, cat := openStore(t, testConfig(dir))
	apply(t, s, register(svcA, "10.0.0.1", true))
	sv, ok := cat.Service(svcA)
	if !ok || !sv.Meta.Implicit || len(sv.Instances) != 1 {
		t.Fatalf("service %+v", sv)
	}
	// A beat carrying the whole instance re-registers into a missing service the same way.
	full := naming.Op{Kind: naming.OpBeat, Service: svcB, Target: target("10.0.1.1"), Instance: inst("10.0.1.1", true)}
	apply(t, s, full)
	s.Close()
	_, cat2 := openStore(t, testConfig(dir))
	for _, k := range []naming.ServiceKey{svcA, svcB} {
		sv, ok := cat2.Service(k)
		if !ok || !sv.Meta.Implicit {
			t.Fatalf("%v: implicitly created service lost on restart: %+v", k, sv)
		}
		if len(sv.Instances) != 0 {
			t.Fatalf("%v: ephemeral instance kept: %+v", k, sv.Instances)
		}
	}
}

func TestAPServicesLiveInMemoryUntilCPDataTouchesThem(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.SnapshotEvery = 1000
	s, cat := openStore(t, cfg)
	apply(t, s, setSwitch("serverMode", "AP"))
	apply(t, s, register(svcA, "10.0.0.1", true))
	apply(t, s, register(svcB, "10.0.1.1", true))
	if _, ok := cat.Service(svcA); !ok {
		t.Fatal("AP registration did not create the service")
	}
	// Back to MIXED; a CP op on the in-memory service must make it durable first.
	apply(t, s, setSwitch("serverMode", "MIXED"))
	apply(t, s, naming.Op{Kind: naming.OpUpdateService, Service: svcA, Meta: &naming.ServiceMeta{ProtectThreshold: 0.5}})
	want := persistentJSON(t, cat)
	s.Close()

	_, cat2 := openStore(t, testConfig(dir))
	if sv, ok := cat2.Service(svcA); !ok || sv.Meta.ProtectThreshold != 0.5 {
		t.Fatalf("service updated after AP lost on restart: %+v", sv)
	}
	if _, ok := cat2.Service(svcB); ok {
		t.Fatal("AP-only service survived a restart")
	}
	// The in-memory AP service svcB is not durable: no part of the persistent state.
	if got := persistentJSON(t, cat2); got != want {
		t.Fatalf("restart:\n got %s\nwant %s", got, want)
	}
}

func TestApplyAfterClose(t *testing.T) {
	s, _ := openStore(t, testConfig(t.TempDir()))
	apply(t, s, register(svcA, "10.0.0.1", true))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	for _, op := range []naming.Op{
		register(svcA, "10.0.0.2", false),
		register(svcA, "10.0.0.2", true),
		{Kind: naming.OpBeat, Service: svcA, Target: target("10.0.0.1")},
	} {
		if err := s.Apply(context.Background(), op); !errors.Is(err, naming.ErrUnavailable) {
			t.Errorf("%v after Close: %v", op.Kind, err)
		}
	}
	if s.Ready() == nil {
		t.Error("ready after Close")
	}
	if m := s.Members(); len(m) != 1 || m[0].State != naming.MemberDown {
		t.Errorf("members after Close: %+v", m)
	}
	if err := s.Start(context.Background()); err == nil {
		t.Error("Start after Close accepted")
	}
}

func TestApplyWithDoneContext(t *testing.T) {
	s, cat := openStore(t, testConfig(t.TempDir()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Apply(ctx, register(svcA, "10.0.0.1", false)); !errors.Is(err, naming.ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
	if _, ok := cat.Service(svcA); ok {
		t.Fatal("op applied despite a done context")
	}
}

func TestStampsTime(t *testing.T) {
	cfg := testConfig(t.TempDir())
	s, cat := openStore(t, cfg)
	apply(t, s, register(svcA, "10.0.0.1", true))
	in := find(cat, svcA, "10.0.0.1")
	if in.LastBeat() <= t0.UnixMilli() || in.LastBeat() > t0.UnixMilli()+1000 {
		t.Fatalf("op time not stamped from the configured clock: %d", in.LastBeat())
	}
	op := register(svcA, "10.0.0.2", true)
	op.Time = 42
	apply(t, s, op)
	if got := find(cat, svcA, "10.0.0.2").LastBeat(); got != 42 {
		t.Fatalf("a given time was overwritten: %d", got)
	}
}

func TestClusterContract(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Self = "10.1.2.3:8848"
	s, err := NewStandalone(cfg, naming.NewCatalog(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Ready() == nil {
		t.Error("ready before Start")
	}
	if m := s.Members(); len(m) != 1 || m[0].State != naming.MemberStarting {
		t.Errorf("members before Start: %+v", m)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err == nil {
		t.Error("second Start accepted")
	}
	if err := s.Ready(); err != nil {
		t.Errorf("not ready after Start: %v", err)
	}
	m := s.Members()
	if len(m) != 1 || m[0].Address != "10.1.2.3:8848" || m[0].State != naming.MemberUp || !m[0].Self || m[0].LastSeen == 0 {
		t.Errorf("members %+v", m)
	}
	if s.Leader() != "10.1.2.3:8848" {
		t.Errorf("leader %q", s.Leader())
	}
	if !s.Owns(svcA) || !s.Owns(svcB) {
		t.Error("a lone node must own every service")
	}
	var _ naming.Writer = s
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultStandaloneConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*StandaloneConfig){
		"no dir":         func(c *StandaloneConfig) { c.DataDir = "" },
		"bad self":       func(c *StandaloneConfig) { c.Self = "localhost" },
		"zero snapshots": func(c *StandaloneConfig) { c.SnapshotEvery = 0 },
	} {
		c := testConfig(t.TempDir())
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := NewStandalone(c, naming.NewCatalog(), nil); err == nil {
			t.Errorf("%s: NewStandalone accepted", name)
		}
	}
	if _, err := NewStandalone(testConfig(t.TempDir()), nil, nil); err == nil {
		t.Error("nil catalog accepted")
	}
}

func TestDataDirIsLocked(t *testing.T) {
	dir := t.TempDir()
	s, _ := openStore(t, testConfig(dir))
	if _, err := NewStandalone(testConfig(dir), naming.NewCatalog(), nil); err == nil {
		t.Fatal("a second writer opened a data dir in use")
	}
	s.Close()
	s2, err := NewStandalone(testConfig(dir), naming.NewCatalog(), nil)
	if err != nil {
		t.Fatalf("reopen after Close: %v", err)
	}
	s2.Close()
}

func TestConcurrentApplyIsDurable(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.SnapshotEvery = 75 // compaction runs in the middle of the load
	s, cat := openStore(t, cfg)
	const workers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			key := naming.NewServiceKey("", "", fmt.Sprintf("svc-%d", w%3))
			for i := 0; i < each; i++ {
				ip := fmt.Sprintf("10.%d.%d.1", w, i)
				if err := s.Apply(context.Background(), register(key, ip, false)); err != nil {
					errs <- err
				}
				// Ephemeral traffic in between must not disturb the log.
				if err := s.Apply(context.Background(), register(key, fmt.Sprintf("10.%d.%d.2", w, i), true)); err != nil {
					errs <- err
				}
				if err := s.Apply(context.Background(), naming.Op{Kind: naming.OpBeat, Service: key, Target: target(ip)}); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := persistentJSON(t, cat)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, cat2 := openStore(t, testConfig(dir))
	n := 0
	for _, sv := range cat2.Services("", "") {
		n += len(sv.Instances)
	}
	if n != workers*each {
		t.Fatalf("%d persistent instances after restart, want %d", n, workers*each)
	}
	if got := persistentJSON(t, cat2); got != want {
		t.Fatal("state after restart differs from the state before")
	}
}
