package naming

import (
	"errors"
	"math"
	"sync"
	"testing"
)

func svc(name string) ServiceKey { return NewServiceKey("", "", name) }

func reg(t *testing.T, c *Catalog, key ServiceKey, ip string, port int, eph bool, now int64) {
	t.Helper()
	err := c.Apply(Op{Kind: OpRegister, Time: now, Service: key, Instance: &Instance{
		IP: ip, Port: port, Cluster: DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: eph,
		Metadata: map[string]string{"zone": "a"}}})
	if err != nil {
		t.Fatalf("register %s:%d: %v", ip, port, err)
	}
}

func TestNewServiceKey(t *testing.T) {
	cases := []struct {
		ns, group, name string
		want            ServiceKey
	}{
		{"", "", "demo", ServiceKey{"public", "DEFAULT_GROUP", "demo"}},
		{" ", "g", "demo", ServiceKey{"public", "g", "demo"}},
		{"dev", "", "g1@@demo", ServiceKey{"dev", "g1", "demo"}},
		{"dev", "ignored", "g1@@demo", ServiceKey{"dev", "g1", "demo"}},
		{"", "", "@@demo", ServiceKey{"public", "DEFAULT_GROUP", "demo"}},
	}
	for _, c := range cases {
		if got := NewServiceKey(c.ns, c.group, c.name); got != c.want {
			t.Errorf("NewServiceKey(%q,%q,%q) = %+v, want %+v", c.ns, c.group, c.name, got, c.want)
		}
	}
	if NewServiceKey("", "", "demo").Grouped() != "DEFAULT_GROUP@@demo" {
		t.Error("grouped name wrong")
	}
	if err := NewServiceKey("", "", "").Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty name: got %v", err)
	}
	if err := NewServiceKey("", "", "a@@b@@c").Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("double separator: got %v", err)
	}
}

func TestRegisterReplaceDeregister(t *testing.T) {
	c := NewCatalog()
	k := svc("demo")
	var notified []ServiceKey
	var mu sync.Mutex
	cancel := c.Watch(func(k ServiceKey) { mu.Lock(); notified = append(notified, k); mu.Unlock() })
	defer cancel()

	reg(t, c, k, "10.0.0.2", 80, true, 1000)
	reg(t, c, k, "10.0.0.1", 80, true, 1000)
	s, ok := c.Service(k)
	if !ok || len(s.Instances) != 2 {
		t.Fatalf("want 2 instances, got %+v", s)
	}
	if id := s.Instances[0].Key().ID(s.Key); s.Instances[0].IP != "10.0.0.1" || id != "10.0.0.1#80#DEFAULT#DEFAULT_GROUP@@demo" {
		t.Errorf("instances not sorted by id or id wrong: %s", id)
	}
	if !s.Meta.Implicit {
		t.Error("service created by registration should be implicit")
	}
	rev := s.Revision
	// Re-registering replaces, keeping one instance per key.
	reg(t, c, k, "10.0.0.1", 80, true, 2000)
	s2, _ := c.Service(k)
	if len(s2.Instances) != 2 || s2.Revision <= rev {
		t.Fatalf("replace: %d instances, rev %d -> %d", len(s2.Instances), rev, s2.Revision)
	}
	if len(s.Instances) != 2 || s.Revision != rev {
		t.Error("old view was modified")
	}
	if err := c.Apply(Op{Kind: OpDeregister, Time: 3000, Service: k, Target: InstanceKey{"10.0.0.1", 80, "DEFAULT"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(Op{Kind: OpDeregister, Time: 3000, Service: k, Target: InstanceKey{"10.9.9.9", 80, "DEFAULT"}}); err != nil {
		t.Fatalf("deregister of absent instance must succeed: %v", err)
	}
	s3, _ := c.Service(k)
	if len(s3.Instances) != 1 || s3.Instances[0].IP != "10.0.0.2" {
		t.Fatalf("after deregister: %+v", s3.Instances)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notified) != 4 {
		t.Errorf("want 4 notifications (3 registers, 1 deregister), got %d", len(notified))
	}
}

func TestInvalidOpsChangeNothing(t *testing.T) {
	c := NewCatalog()
	k := svc("demo")
	reg(t, c, k, "10.0.0.1", 80, true, 1000)
	reg(t, c, k, "10.0.0.2", 80, false, 1000) // a persistent instance: the record is durable, not deletable
	before, _ := c.Service(k)
	nan := math.NaN()
	bad := []Op{
		{Kind: OpRegister, Service: k, Instance: &Instance{IP: "not-an-ip", Port: 80, Cluster: "DEFAULT", Weight: 1}},
		{Kind: OpRegister, Service: k, Instance: &Instance{IP: "10.0.0.3", Port: 70000, Cluster: "DEFAULT", Weight: 1}},
		{Kind: OpRegister, Service: k, Instance: &Instance{IP: "10.0.0.3", Port: 80, Cluster: "DEFAULT", Weight: 10001}},
		{Kind: OpRegister, Service: k, Instance: &Instance{IP: "10.0.0.3", Port: 80, Cluster: "bad cluster", Weight: 1}},
		{Kind: OpRegister, Service: svc(""), Instance: &Instance{IP: "10.0.0.3", Port: 80, Cluster: "DEFAULT", Weight: 1}},
		{Kind: OpUpdateInstance, Service: k, Target: InstanceKey{"10.0.0.9", 80, "DEFAULT"}, Patch: &InstancePatch{}},
		{Kind: OpUpdateInstance, Service: k, Target: InstanceKey{"10.0.0.1", 80, "DEFAULT"}, Patch: &InstancePatch{Weight: &nan}},
		{Kind: OpSetHealth, Service: k, Target: InstanceKey{"10.0.0.9", 80, "DEFAULT"}},
		{Kind: OpBeat, Service: k, Target: InstanceKey{"10.0.0.9", 80, "DEFAULT"}},
		{Kind: OpSetSwitch, SwitchEntry: "serverMode", SwitchValue: "XX"},
		{Kind: OpSetSwitch, SwitchEntry: "noSuchSwitch", SwitchValue: "1"},
		{Kind: OpDeleteService, Service: k},
		{Kind: OpCreateService, Service: k, Meta: &ServiceMeta{}},
		{Kind: OpCreateNamespace, Namespace: &Namespace{ID: "bad id"}},
		{Kind: 99, Service: k},
	}
	for i, op := range bad {
		if err := c.Apply(op); err == nil {
			t.Errorf("op %d (%v) accepted", i, op.Kind)
		} else {
			var ne *Error
			if !errors.As(err, &ne) || ne.Msg == "" {
				t.Errorf("op %d: error %v is not a *naming.Error with a message", i, err)
			}
		}
	}
	after, _ := c.Service(k)
	if after != before {
		t.Error("a rejected op changed the service")
	}
	if c.Switches() != DefaultSwitches() {
		t.Error("a rejected op changed the switches")
	}
}

func TestBeats(t *testing.T) {
	c := NewCatalog()
	k := svc("demo")
	reg(t, c, k, "10.0.0.1", 80, true, 1000)
	target := InstanceKey{"10.0.0.1", 80, "DEFAULT"}
	s, _ := c.Service(k)
	rev := s.Revision
	if err := c.Apply(Op{Kind: OpBeat, Time: 5000, Service: k, Target: target}); err != nil {
		t.Fatal(err)
	}
	s, _ = c.Service(k)
	if s.Revision != rev || s.Instances[0].LastBeat() != 5000 {
		t.Errorf("beat on healthy instance: rev %d->%d, last beat %d", rev, s.Revision, s.Instances[0].LastBeat())
	}
	// An older beat never moves the clock back.
	_ = c.Apply(Op{Kind: OpBeat, Time: 4000, Service: k, Target: target})
	if got := s.Instances[0].LastBeat(); got != 5000 {
		t.Errorf("last beat went back to %d", got)
	}
	// Mark unhealthy only if no beat came since 5000.
	if err := c.Apply(Op{Kind: OpSetHealth, Time: 21000, Service: k, Target: target, ExpectBeat: 4999}); err != nil {
		t.Fatal(err)
	}
	if s, _ = c.Service(k); !s.Instances[0].Healthy {
		t.Fatal("stale ExpectBeat must not flip health")
	}
	if err := c.Apply(Op{Kind: OpSetHealth, Time: 21000, Service: k, Target: target, ExpectBeat: 5000}); err != nil {
		t.Fatal(err)
	}
	if s, _ = c.Service(k); s.Instances[0].Healthy {
		t.Fatal("instance should be unhealthy")
	}
	// A beat makes it healthy again.
	if err := c.Apply(Op{Kind: OpBeat, Time: 22000, Service: k, Target: target}); err != nil {
		t.Fatal(err)
	}
	if s, _ = c.Service(k); !s.Instances[0].Healthy {
		t.Fatal("beat should make the instance healthy")
	}
	// A light beat for an unknown instance is ErrNotFound; a full beat re-creates it.
	lost := InstanceKey{"10.0.0.7", 81, "DEFAULT"}
	if err := c.Apply(Op{Kind: OpBeat, Time: 23000, Service: k, Target: lost}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("light beat for unknown instance: %v", err)
	}
	full := &Instance{IP: "10.0.0.7", Port: 81, Cluster: "DEFAULT", Weight: 2, Metadata: map[string]string{"v": "1"}}
	if err := c.Apply(Op{Kind: OpBeat, Time: 23000, Service: k, Target: lost, Instance: full}); err != nil {
		t.Fatal(err)
	}
	s, _ = c.Service(k)
	in := s.Find(lost)
	if in == nil || !in.Healthy || !in.Ephemeral || in.Weight != 2 || in.Metadata["v"] != "1" || in.LastBeat() != 23000 {
		t.Fatalf("full beat did not re-create the instance: %+v", in)
	}
}

func TestServiceLifecycle(t *testing.T) {
	c := NewCatalog()
	k := svc("orders")
	if err := c.Apply(Op{Kind: OpCreateService, Service: k, Meta: &ServiceMeta{ProtectThreshold: 0.5, Metadata: map[string]string{"a": "b"}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(Op{Kind: OpCreateService, Service: k, Meta: &ServiceMeta{}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second create: %v", err)
	}
	cl := &ClusterConfig{Name: "DEFAULT", HealthChecker: HealthChecker{Type: "NONE"}}
	if err := c.Apply(Op{Kind: OpUpdateCluster, Service: k, Cluster: cl}); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(Op{Kind: OpUpdateService, Service: k, Meta: &ServiceMeta{ProtectThreshold: 0.2}}); err != nil {
		t.Fatal(err)
	}
	s, _ := c.Service(k)
	if s.Meta.ProtectThreshold != 0.2 || s.Meta.Cluster("DEFAULT").HealthChecker.Type != "NONE" || s.Meta.Implicit {
		t.Fatalf("meta after update: %+v", s.Meta)
	}
	reg(t, c, k, "10.0.0.1", 80, false, 1000)
	if err := c.Apply(Op{Kind: OpDeleteService, Service: k}); !errors.Is(err, ErrConflict) {
		t.Fatalf("delete of non-empty service: %v", err)
	}
	_ = c.Apply(Op{Kind: OpDeregister, Service: k, Target: InstanceKey{"10.0.0.1", 80, "DEFAULT"}})
	if err := c.Apply(Op{Kind: OpDeleteService, Service: k}); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Service(k); ok {
		t.Fatal("service still there")
	}
}

func TestSelectProtectThreshold(t *testing.T) {
	mk := func(healthy ...bool) *Service {
		s := &Service{}
		for i, h := range healthy {
			s.Instances = append(s.Instances, &Instance{IP: "10.0.0." + string(rune('1'+i)), Healthy: h, Enabled: true, Weight: 1})
		}
		return s
	}
	s := mk(true, false, false, false)
	if sel := s.Select(nil, true); len(sel.Instances) != 1 || sel.Protected {
		t.Errorf("threshold 0: %+v", sel)
	}
	s.Meta.ProtectThreshold = 0.5 // 1/4 healthy < 0.5
	if sel := s.Select(nil, true); len(sel.Instances) != 4 || !sel.Protected {
		t.Errorf("threshold 0.5: %+v", sel)
	}
	s.Meta.ProtectThreshold = 0.25 // 1/4 is not below 0.25
	if sel := s.Select(nil, true); len(sel.Instances) != 1 || sel.Protected {
		t.Errorf("threshold 0.25 (strict <): %+v", sel)
	}
	all := mk(false, false)
	if sel := all.Select(nil, true); len(sel.Instances) != 0 || sel.Protected {
		t.Errorf("all dead with threshold 0 must return nothing: %+v", sel)
	}
	dis := mk(true)
	dis.Instances[0].Enabled = false
	if sel := dis.Select(nil, false); len(sel.Instances) != 0 {
		t.Error("disabled instance selected")
	}
}

func TestCheckBeatTimings(t *testing.T) {
	def := TimingsOf(nil)
	if def.Interval.Milliseconds() != 5000 || def.Timeout.Milliseconds() != 15000 || def.Delete.Milliseconds() != 30000 {
		t.Fatalf("defaults: %+v", def)
	}
	cases := []struct {
		healthy bool
		idle    int64
		want    BeatVerdict
	}{
		{true, 15000, BeatOK}, {true, 15001, BeatUnhealthy}, {false, 20000, BeatOK},
		{false, 30000, BeatOK}, {false, 30001, BeatExpired}, {true, 30001, BeatExpired},
	}
	for _, c := range cases {
		if got := CheckBeat(def, c.healthy, 1000, 1000+c.idle); got != c.want {
			t.Errorf("healthy=%v idle=%d: got %v want %v", c.healthy, c.idle, got, c.want)
		}
	}
	o := TimingsOf(map[string]string{MetaBeatInterval: "1000", MetaBeatTimeout: "3000", MetaDeleteTimeout: "6000", "x": "y"})
	if o.Interval.Milliseconds() != 1000 || o.Timeout.Milliseconds() != 3000 || o.Delete.Milliseconds() != 6000 {
		t.Errorf("overrides: %+v", o)
	}
	bad := TimingsOf(map[string]string{MetaBeatTimeout: "-5", MetaDeleteTimeout: "abc"})
	if bad != def {
		t.Errorf("bad overrides must fall back to defaults: %+v", bad)
	}
}

func TestPersistentStateRoundTrip(t *testing.T) {
	c := NewCatalog()
	k := svc("db")
	reg(t, c, k, "10.0.0.1", 5432, false, 1000)
	reg(t, c, k, "10.0.0.2", 5432, true, 1000)
	if err := c.Apply(Op{Kind: OpCreateNamespace, Namespace: &Namespace{ID: "dev", Name: "Dev"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(Op{Kind: OpSetSwitch, SwitchEntry: "serverMode", SwitchValue: "ap"}); err != nil {
		t.Fatal(err)
	}
	st := c.PersistentState()
	d := NewCatalog()
	d.RestorePersistent(st, 5000)
	s, ok := d.Service(k)
	if !ok || len(s.Instances) != 1 || s.Instances[0].IP != "10.0.0.1" || s.Instances[0].Ephemeral {
		t.Fatalf("restored service: %+v", s)
	}
	if _, ok := d.Namespace("dev"); !ok {
		t.Error("namespace lost")
	}
	if d.Switches().ServerMode != ModeAP {
		t.Error("switch lost")
	}
}

func TestSwitchesParse(t *testing.T) {
	s := DefaultSwitches()
	if err := s.Set("clientBeatInterval", "abc"); !errors.Is(err, ErrInvalid) {
		t.Errorf("got %v", err)
	}
	if err := s.Set("pushEnabled", "off"); err != nil || s.PushEnabled {
		t.Errorf("pushEnabled off: %v %v", err, s.PushEnabled)
	}
	if err := s.Set("serverMode", "cp"); err != nil || s.ServerMode != ModeCP {
		t.Errorf("serverMode: %v %v", err, s.ServerMode)
	}
}
