package main

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/healthcheck"
	"sextant/naming"
)

// ownedCatalog is a naming.Writer over a catalog that owns a service
// while owns is set.
type ownedCatalog struct {
	cat  *naming.Catalog
	owns atomic.Bool
}

func (w *ownedCatalog) Apply(_ context.Context, op naming.Op) error { return w.cat.Apply(op) }
func (w *ownedCatalog) Owns(naming.ServiceKey) bool                 { return w.owns.Load() }
func (w *ownedCatalog) DropEmpty(k naming.ServiceKey) error         { return w.cat.DropEmpty(k) }

// The reliability suite's checks read what a node's beat checker logs, in
// the node's own format (newLogger): a judging period and a flip must
// come out as the checks expect, or they would pass by seeing nothing.
func TestReliabilityReadsBeatCheckerLogs(t *testing.T) {
	logs := &logBuf{}
	cat := naming.NewCatalog()
	w := &ownedCatalog{cat: cat}
	w.owns.Store(true)
	key := naming.NewServiceKey("", "", "rel-svc-1")
	t0 := time.UnixMilli(1_800_000_000_000)
	if err := cat.Apply(naming.Op{Kind: naming.OpRegister, Time: t0.UnixMilli(), Service: key, Ephemeral: true,
		Instance: &naming.Instance{IP: "10.77.0.4", Port: 8080, Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}}); err != nil {
		t.Fatal(err)
	}
	b, err := healthcheck.NewBeatChecker(healthcheck.DefaultConfig(), cat, w, healthcheck.RealClock(), nil,
		logrus.NewEntry(newLogger(logs, "info")))
	if err != nil {
		t.Fatal(err)
	}
	const offset = 30 * time.Second // the node's clock runs 30 s ahead
	b.Sweep(context.Background(), t0.Add(offset+time.Second))
	b.Sweep(context.Background(), t0.Add(offset+20*time.Second)) // no beat for 20 s: unhealthy
	w.owns.Store(false)
	b.Sweep(context.Background(), t0.Add(offset+21*time.Second))

	periods := parseJudging(logs.String(), 2, offset, 0)
	want := judgingPeriod{node: 2, service: key.String(), from: t0.Add(time.Second).UnixMilli(), to: t0.Add(20 * time.Second).UnixMilli()}
	if len(periods) != 1 || periods[0] != want {
		t.Fatalf("periods %+v, want [%+v]\nlogs:\n%s", periods, want, logs.String())
	}
	var harmed []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if k, ok := harmedKey(line); ok {
			harmed = append(harmed, k)
		}
	}
	if len(harmed) != 1 || harmed[0] != "rel-svc-1|10.77.0.4:8080" {
		t.Fatalf("harmed %v, want [rel-svc-1|10.77.0.4:8080]\nlogs:\n%s", harmed, logs.String())
	}
}
