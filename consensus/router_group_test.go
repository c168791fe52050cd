package consensus

import (
	"context"
	"errors"
	"testing"

	"sextant/naming"
)

// groupingAP is a Distro engine that takes groups and records them.
type groupingAP struct {
	recordingAP
	groups [][]naming.Op
}

func (a *groupingAP) ApplyGroup(_ context.Context, ops []naming.Op) []error {
	a.groups = append(a.groups, ops)
	return make([]error, len(ops))
}

// The router hands a sweep's ephemeral judgements of a service to Distro
// as one group, each admitted as Apply admits it: an invalid op is refused
// at the door and is not in the group, and a persistent op goes to Raft
// alone.
func TestRouterHandsGroupsToDistro(t *testing.T) {
	cat := naming.NewCatalog()
	cp, ap := &outageCP{}, &groupingAP{}
	cp.elect()
	r := NewRouter(DefaultRouterConfig(), cat, ap, cp, nil, quietLog())
	k := naming.NewServiceKey("", "", "swept")
	flip := func(ip string) naming.Op {
		return naming.Op{Kind: naming.OpSetHealth, Service: k, Ephemeral: true, ExpectBeat: 1,
			Target: naming.InstanceKey{IP: ip, Port: 80, Cluster: naming.DefaultCluster}}
	}
	persistent := register(k, "10.0.0.9", false)
	ops := []naming.Op{flip("10.0.0.1"), flip("not-an-ip"), flip("10.0.0.2"), persistent}
	errs := r.ApplyGroup(context.Background(), ops)
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], naming.ErrInvalid) {
		t.Fatalf("results %v", errs)
	}
	if len(ap.groups) != 1 || len(ap.groups[0]) != 2 || ap.groups[0][0].Target.IP != "10.0.0.1" || ap.groups[0][1].Target.IP != "10.0.0.2" {
		t.Fatalf("distro was handed %v, want the two valid flips in one group", ap.groups)
	}
	if ap.groups[0][0].Time == 0 {
		t.Fatal("the router did not stamp the ops it grouped")
	}
	cp.mu.Lock()
	var registered bool
	for _, op := range cp.committed {
		registered = registered || op.Kind == naming.OpRegister && op.Instance.IP == "10.0.0.9"
	}
	cp.mu.Unlock()
	if !registered || ap.count() != 0 {
		t.Fatalf("raft committed the persistent registration: %v; distro took %d ops alone, want none", registered, ap.count())
	}
}
