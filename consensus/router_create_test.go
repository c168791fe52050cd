package consensus

import (
	"context"
	"sync"
	"testing"
	"time"

	"sextant/naming"
)

// outageCP is a Raft node without a leader until elect is called; it
// records what it commits.
type outageCP struct {
	mu        sync.Mutex
	leader    bool
	committed []naming.Op
}

func (c *outageCP) elect() { c.mu.Lock(); c.leader = true; c.mu.Unlock() }

func (c *outageCP) IsLeader() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.leader }
func (c *outageCP) Leader() string {
	if c.IsLeader() {
		return "self"
	}
	return ""
}

func (c *outageCP) Apply(_ context.Context, op naming.Op) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.committed = append(c.committed, op)
	return nil
}

func (c *outageCP) creates(k naming.ServiceKey) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, op := range c.committed {
		if op.Kind == naming.OpCreateService && op.Service == k {
			n++
		}
	}
	return n
}

// In MIXED mode, the first ephemeral instance of a new service is taken
// while Raft has no leader; the service's durable record follows once a
// leader exists. A persistent registration still needs Raft.
func TestEphemeralRegistrationDoesNotWaitForRaft(t *testing.T) {
	cat := naming.NewCatalog()
	cp := &outageCP{}
	r := NewRouter(RouterConfig{LeaderWait: 50 * time.Millisecond, Limits: DefaultLimits()}, cat, catalogAP{cat}, cp, nil, nil)
	k := naming.NewServiceKey("", "", "brand-new")
	in := &naming.Instance{IP: "10.8.0.1", Port: 80, Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}
	if err := r.Apply(context.Background(), naming.Op{Kind: naming.OpRegister, Service: k, Instance: in}); err != nil {
		t.Fatalf("ephemeral registration into a new service without a raft leader: %v", err)
	}
	if s, ok := cat.Service(k); !ok || len(s.Instances) != 1 {
		t.Fatal("the instance is not in the catalog")
	}
	persistent := naming.NewServiceKey("", "", "brand-new-durable")
	pin := *in
	pin.Ephemeral = false
	if err := r.Apply(context.Background(), naming.Op{Kind: naming.OpRegister, Service: persistent, Instance: &pin}); err == nil {
		t.Fatal("a persistent registration went through without a raft leader")
	}
	if cp.creates(k) != 0 {
		t.Fatal("a create was committed without a leader")
	}
	cp.elect()
	deadline := time.Now().Add(10 * time.Second)
	for cp.creates(k) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the durable service record was never created once a leader existed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
