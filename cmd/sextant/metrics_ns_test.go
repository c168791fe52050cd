package main

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"sextant/naming"
)

// namespaceLabels gathers a catalog collector and returns the values of
// the namespace label of sextant_services.
func namespaceLabels(t *testing.T, c *catalogCollector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "sextant_services" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "namespace" {
					out[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	return out
}

// TestMetricsHideNamespaceNames: the unauthenticated /metrics shows public
// by name and sums the other namespaces under "other", unless
// metrics-namespace-labels is set.
func TestMetricsHideNamespaceNames(t *testing.T) {
	cat := naming.NewCatalog()
	for _, ns := range []string{"", "acme-payments", "acme-payments", "team-secret"} {
		for _, name := range []string{"a", "b"} {
			k := naming.NewServiceKey(ns, "", name+ns)
			in := &naming.Instance{IP: "10.0.0.1", Port: 80, Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}
			if err := cat.Apply(naming.Op{Kind: naming.OpRegister, Time: 1, Service: k, Instance: in, Ephemeral: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := namespaceLabels(t, newCatalogCollector(cat))
	if len(got) != 2 || got["public"] != 2 || got["other"] != 4 {
		t.Fatalf("default labels %v, want public=2 other=4", got)
	}
	c := newCatalogCollector(cat)
	c.byName = true
	if got := namespaceLabels(t, c); got["acme-payments"] != 2 || got["team-secret"] != 2 {
		t.Fatalf("with names: %v", got)
	}
}
