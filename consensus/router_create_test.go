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

// outageRouter is a MIXED router over a catalog (Distro applies straight
// to it) and an outageCP without a leader.
func outageRouter(leaderWait time.Duration) (*naming.Catalog, *outageCP, *Router) {
	cat, cp := naming.NewCatalog(), &outageCP{}
	return cat, cp, NewRouter(RouterConfig{LeaderWait: leaderWait, Limits: DefaultLimits()}, cat, catalogAP{cat}, cp, nil, nil)
}

func ephemeralInstance(ip string) *naming.Instance {
	return &naming.Instance{IP: ip, Port: 80, Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}
}

// In MIXED mode, the first ephemeral instance of a new service is taken
// while Raft has no leader; the service's durable record follows once a
// leader exists. A persistent registration still needs Raft.
func TestEphemeralRegistrationDoesNotWaitForRaft(t *testing.T) {
	cat, cp, r := outageRouter(50 * time.Millisecond)
	k := naming.NewServiceKey("", "", "brand-new")
	in := ephemeralInstance("10.8.0.1")
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

// TestCloseStopsBackgroundCreates: a durable service record still waiting
// for a Raft leader is given up when the router closes. Close returns once
// the retrying create has ended, nothing is committed for it afterwards,
// and a registration after Close starts no new one.
func TestCloseStopsBackgroundCreates(t *testing.T) {
	_, cp, r := outageRouter(20 * time.Millisecond)
	k := naming.NewServiceKey("", "", "closing")
	in := ephemeralInstance("10.8.0.2")
	if err := r.Apply(context.Background(), naming.Op{Kind: naming.OpRegister, Service: k, Instance: in}); err != nil {
		t.Fatalf("ephemeral registration: %v", err)
	}
	if _, busy := r.creating.Load(k); !busy {
		t.Fatal("no background create was started for the new service")
	}

	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return while a background create was retrying")
	}
	if _, busy := r.creating.Load(k); busy {
		t.Fatal("the background create is still running after Close returned")
	}
	// A leader now would take a create at once; the closed router sends none.
	cp.elect()
	later := naming.NewServiceKey("", "", "after-close")
	if err := r.Apply(context.Background(), naming.Op{Kind: naming.OpRegister, Service: later, Instance: in}); err != nil {
		t.Fatalf("registration after Close: %v", err)
	}
	if _, busy := r.creating.Load(later); busy {
		t.Fatal("a background create started after Close")
	}
	if n := cp.creates(k) + cp.creates(later); n != 0 {
		t.Fatalf("%d creates committed after Close", n)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
