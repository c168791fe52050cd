package consensus

import (
	"context"
	"encoding/json"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"sextant/naming"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// testClock is a clock for stamping ops that moves a millisecond per read.
type testClock struct{ n atomic.Int64 }

func (c *testClock) now() time.Time { return t0.Add(time.Duration(c.n.Add(1)) * time.Millisecond) }

func testConfig(dir string) StandaloneConfig {
	cfg := DefaultStandaloneConfig()
	cfg.DataDir = dir
	clk := &testClock{}
	cfg.Now = clk.now
	return cfg
}

func quietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

// capturingLog returns a logger whose entries the test can read.
func capturingLog() (*logrus.Entry, *test.Hook) {
	l, hook := test.NewNullLogger()
	return logrus.NewEntry(l), hook
}

// openStore opens a started Standalone over a fresh catalog.
func openStore(t testing.TB, cfg StandaloneConfig) (*Standalone, *naming.Catalog) {
	t.Helper()
	cat := naming.NewCatalog()
	s, err := NewStandalone(cfg, cat, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, cat
}

func apply(t testing.TB, s *Standalone, op naming.Op) {
	t.Helper()
	if err := s.Apply(context.Background(), op); err != nil {
		t.Fatalf("%v: %v", op.Kind, err)
	}
}

var (
	svcA = naming.NewServiceKey("", "", "orders")
	svcB = naming.NewServiceKey("dev", "grp", "payments")
)

func inst(ip string, ephemeral bool) *naming.Instance {
	return &naming.Instance{IP: ip, Port: 8080, Cluster: naming.DefaultCluster, Weight: 1, Healthy: true,
		Enabled: true, Ephemeral: ephemeral, Metadata: map[string]string{"zone": "a"}}
}

func register(key naming.ServiceKey, ip string, ephemeral bool) naming.Op {
	return naming.Op{Kind: naming.OpRegister, Service: key, Instance: inst(ip, ephemeral)}
}

func target(ip string) naming.InstanceKey {
	return naming.InstanceKey{IP: ip, Port: 8080, Cluster: naming.DefaultCluster}
}

func createService(key naming.ServiceKey, threshold float64) naming.Op {
	return naming.Op{Kind: naming.OpCreateService, Service: key,
		Meta: &naming.ServiceMeta{ProtectThreshold: threshold, Metadata: map[string]string{"owner": "team-a"}}}
}

func setSwitch(entry, value string) naming.Op {
	return naming.Op{Kind: naming.OpSetSwitch, SwitchEntry: entry, SwitchValue: value}
}

// persistentJSON renders the CP half of a catalog in a canonical form.
func persistentJSON(t testing.TB, cat *naming.Catalog) string {
	t.Helper()
	st := cat.PersistentState()
	sortState(&st)
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func find(cat *naming.Catalog, key naming.ServiceKey, ip string) *naming.Instance {
	s, ok := cat.Service(key)
	if !ok {
		return nil
	}
	return s.Find(target(ip))
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
