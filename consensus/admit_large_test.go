package consensus

import (
	"context"
	"fmt"
	"testing"

	"sextant/naming"
)

// Admission (the router's and a lone node's) reads a service through its
// view: a write into a large service, a beat after it and a refused
// deletion leave the instance list unbuilt, so a change costs O(log n)
// at the door too. The list is built only by a reader that asks for it.
func TestAdmissionBuildsNoList(t *testing.T) {
	const size = 200 // several leaves of the instance tree
	k := naming.NewServiceKey("", "", "large")
	unbuilt := func(t *testing.T, cat *naming.Catalog, step string) {
		t.Helper()
		if s, ok := cat.View(k); !ok || s.Instances != nil {
			t.Fatalf("%s: the list was built (service present: %v)", step, ok)
		}
	}
	writes := func(t *testing.T, cat *naming.Catalog, w interface {
		Apply(context.Context, naming.Op) error
	}) {
		ctx := context.Background()
		for i := range size {
			if err := cat.Apply(naming.Op{Kind: naming.OpRegister, Time: 1, Service: k, Instance: ephemeralInstance(fmt.Sprintf("10.1.%d.%d", i/200, i%200+1))}); err != nil {
				t.Fatal(err)
			}
		}
		unbuilt(t, cat, "load")
		if err := w.Apply(ctx, naming.Op{Kind: naming.OpRegister, Service: k, Instance: ephemeralInstance("10.2.0.1")}); err != nil {
			t.Fatal(err)
		}
		unbuilt(t, cat, "register")
		beat := naming.Op{Kind: naming.OpBeat, Service: k, Ephemeral: true, Target: ephemeralInstance("10.2.0.1").Key()}
		if err := w.Apply(ctx, beat); err != nil {
			t.Fatal(err)
		}
		unbuilt(t, cat, "beat")
		if err := w.Apply(ctx, naming.Op{Kind: naming.OpDeregister, Service: k, Ephemeral: true, Target: ephemeralInstance("10.2.0.1").Key()}); err != nil {
			t.Fatal(err)
		}
		unbuilt(t, cat, "deregister")
		if s, _ := cat.Service(k); s.Len() != size || len(s.Instances) != size {
			t.Fatalf("the list holds %d instances, want %d", len(s.Instances), size)
		}
	}
	t.Run("router", func(t *testing.T) {
		cat, _, r := outageRouter(0)
		writes(t, cat, r)
	})
	t.Run("standalone", func(t *testing.T) {
		s, cat := openStore(t, testConfig(t.TempDir()))
		writes(t, cat, s)
	})
}
