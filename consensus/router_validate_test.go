package consensus

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"sextant/naming"
)

// recordingAP is a Distro engine that records what it is handed.
type recordingAP struct {
	mu  sync.Mutex
	ops []naming.Op
}

func (a *recordingAP) Apply(_ context.Context, op naming.Op) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ops = append(a.ops, op)
	return nil
}
func (a *recordingAP) Owns(naming.ServiceKey) bool { return true }

func (a *recordingAP) count() int { a.mu.Lock(); defer a.mu.Unlock(); return len(a.ops) }

// TestRouterRefusesInvalidOpsAtTheDoor: the router is where a cluster node
// validates an op. An invalid op, written here or forwarded to the leader,
// is refused with ErrInvalid before anything acts on it: no service is
// created for it, Raft commits nothing, Distro is handed nothing, and a
// deregistration naming an impossible instance is not answered "ok".
func TestRouterRefusesInvalidOpsAtTheDoor(t *testing.T) {
	cat := naming.NewCatalog()
	cp, ap := &outageCP{}, &recordingAP{}
	cp.elect()
	r := NewRouter(DefaultRouterConfig(), cat, ap, cp, nil, quietLog())
	addr := startLeader(t, r.CPApplyHandler(""))
	fwd := NewHTTPForwarder("", 5*time.Second)
	fresh := naming.NewServiceKey("", "", "fresh")

	badPersistent := register(fresh, "not-an-ip", false)
	badEphemeral := register(fresh, "10.0.0.1", true)
	badEphemeral.Instance.Weight = -1
	badTarget := naming.Op{Kind: naming.OpDeregister, Service: fresh, Target: naming.InstanceKey{IP: "10.0.0.1", Port: 70000, Cluster: naming.DefaultCluster}}
	badKey := register(naming.NewServiceKey("", "", "a@@b@@c"), "10.0.0.1", false)

	for name, op := range map[string]naming.Op{
		"persistent register, bad ip":    badPersistent,
		"ephemeral register, bad weight": badEphemeral,
		"deregister, bad port":           badTarget,
		"register, bad service name":     badKey,
	} {
		if err := r.Apply(context.Background(), op); !errors.Is(err, naming.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
		op.Time = time.Now().UnixMilli()
		if err := fwd.ForwardCP(context.Background(), addr, op); !errors.Is(err, naming.ErrInvalid) {
			t.Errorf("%s, forwarded to the leader: %v, want ErrInvalid", name, err)
		}
	}
	cp.mu.Lock()
	committed := len(cp.committed)
	cp.mu.Unlock()
	if committed != 0 {
		t.Errorf("raft committed %d ops for invalid writes", committed)
	}
	if n := ap.count(); n != 0 {
		t.Errorf("distro was handed %d invalid ops", n)
	}
	if _, ok := cat.Service(fresh); ok {
		t.Error("an invalid registration created its service")
	}
}
