package consensus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/sirupsen/logrus"

	"sextant/consensus/raftcp"
	"sextant/naming"
)

// catalogAP stands in for Distro: ephemeral ops go straight to the catalog.
type catalogAP struct{ cat *naming.Catalog }

func (a catalogAP) Apply(_ context.Context, op naming.Op) error { return a.cat.Apply(op) }
func (a catalogAP) Owns(naming.ServiceKey) bool                 { return true }

// cutLinks is a partitionable network between the test nodes, for Raft
// (inmem transports) and for the HTTP forwards.
type cutLinks struct {
	mu    sync.Mutex
	cut   map[[2]string]bool
	trans map[string]*raft.InmemTransport // by raft address
	peers []raftcp.Peer
}

func (c *cutLinks) isCut(from, to string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cut[[2]string{from, to}]
}

// isolate cuts peer i off from every other peer, both ways.
func (c *cutLinks) isolate(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for j, p := range c.peers {
		if j == i {
			continue
		}
		a, b := c.peers[i], p
		c.cut[[2]string{a.ID, b.ID}], c.cut[[2]string{b.ID, a.ID}] = true, true
		c.trans[a.RaftAddr].Disconnect(raft.ServerAddress(b.RaftAddr))
		c.trans[b.RaftAddr].Disconnect(raft.ServerAddress(a.RaftAddr))
	}
}

// dropTransport loses the requests of a cut link: they hang until their
// context ends, as packets dropped by a partition do.
type dropTransport struct {
	from  string
	links *cutLinks
}

func (d dropTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if d.links.isCut(d.from, r.URL.Host) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return http.DefaultTransport.RoundTrip(r)
}

type boundNode struct {
	cat    *naming.Catalog
	raft   *raftcp.Node
	router *Router
}

// newBoundCluster starts three raft members over inmem transports, each
// with a router that forwards over HTTP as cmd wires it (a client timeout
// of 10 s), and CP writes bounded by applyTimeout.
func newBoundCluster(t *testing.T, applyTimeout time.Duration) ([]*boundNode, *cutLinks) {
	t.Helper()
	log := logrus.New()
	log.SetOutput(io.Discard)
	links := &cutLinks{cut: map[[2]string]bool{}, trans: map[string]*raft.InmemTransport{}}
	var srvs []*httptest.Server
	for i := 0; i < 3; i++ {
		srv := httptest.NewUnstartedServer(nil)
		srvs = append(srvs, srv)
		addr := srv.Listener.Addr().String()
		links.peers = append(links.peers, raftcp.Peer{ID: addr, RaftAddr: fmt.Sprintf("raft-%d", i)})
		_, tr := raft.NewInmemTransport(raft.ServerAddress(links.peers[i].RaftAddr))
		links.trans[links.peers[i].RaftAddr] = tr
	}
	for _, a := range links.trans {
		for addr, b := range links.trans {
			a.Connect(raft.ServerAddress(addr), b)
		}
	}
	var nodes []*boundNode
	for i, p := range links.peers {
		cfg := raftConfig()
		cfg.Self, cfg.Peers, cfg.InMemory, cfg.Transport = p, links.peers, true, links.trans[p.RaftAddr]
		cfg.ApplyTimeout = applyTimeout
		cat := naming.NewCatalog()
		n, err := raftcp.New(cfg, cat, logrus.NewEntry(log))
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		fwd := NewHTTPForwarder("", 10*time.Second)
		fwd.Client.Transport = dropTransport{from: p.ID, links: links}
		rcfg := DefaultRouterConfig()
		rcfg.ApplyTimeout = applyTimeout
		r := NewRouter(rcfg, cat, catalogAP{cat}, n, fwd, logrus.NewEntry(log))
		srvs[i].Config.Handler = CPApplyHandler(n, "")
		srvs[i].Start()
		t.Cleanup(srvs[i].Close)
		nodes = append(nodes, &boundNode{cat: cat, raft: n, router: r})
	}
	return nodes, links
}

func boundLeader(t *testing.T, nodes []*boundNode) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i, n := range nodes {
			if n.raft.IsLeader() {
				return i
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no leader")
	return -1
}

// A CP write that enters on the minority side of a partition answers
// within raft-apply-timeout, whether its node still forwards to the old
// leader (the request is lost on the way) or knows no leader, and says
// whether it may still be written.
func TestCPWriteBoundedOnMinoritySide(t *testing.T) {
	const bound = time.Second
	nodes, links := newBoundCluster(t, bound)
	l := boundLeader(t, nodes)
	x := (l + 1) % 3
	svc := naming.NewServiceKey("", "", "bounded")
	if err := nodes[x].router.Apply(context.Background(), naming.Op{Kind: naming.OpCreateService, Service: svc, Meta: &naming.ServiceMeta{}}); err != nil {
		t.Fatalf("write through a follower before the partition: %v", err)
	}
	links.isolate(x)
	var longest time.Duration
	for i := 0; i < 4; i++ {
		op := naming.Op{Kind: naming.OpRegister, Service: svc, Instance: inst(fmt.Sprintf("10.7.0.%d", i+1), false)}
		start := time.Now()
		err := nodes[x].router.Apply(context.Background(), op)
		took := time.Since(start)
		longest = max(longest, took)
		if !errors.Is(err, naming.ErrUnavailable) {
			t.Fatalf("write %d on the minority side: %v, want ErrUnavailable", i, err)
		}
		if !strings.Contains(err.Error(), "may or may not") && !strings.Contains(err.Error(), "not committed") {
			t.Errorf("write %d: the answer does not say whether it was written: %v", i, err)
		}
		if took > bound+500*time.Millisecond {
			t.Fatalf("write %d answered after %s, bound %s: %v", i, took, bound, err)
		}
	}
	t.Logf("longest answer on the minority side: %s (bound %s)", longest, bound)
	// The majority goes on.
	maj := (x + 1) % 3
	ok := naming.Op{Kind: naming.OpRegister, Service: svc, Instance: inst("10.7.1.1", false)}
	if err := nodes[maj].router.Apply(context.Background(), ok); err != nil {
		t.Fatalf("write on the majority side: %v", err)
	}
}

// slowCP never commits: it answers when its context ends, as raftcp does
// for a write it proposed and could not confirm.
type slowCP struct{ fakeCP }

func (s *slowCP) Apply(ctx context.Context, op naming.Op) error {
	<-ctx.Done()
	return naming.Errorf(naming.ErrUnavailable, "leader: no quorum; the write may or may not be done")
}

// The forward tells the leader how long its caller waits, so the leader's
// own answer (with what it knows of the write's fate) arrives in time.
func TestForwardCarriesTheCallersBudget(t *testing.T) {
	cp := &slowCP{fakeCP: *newFakeCP()}
	addr := startLeader(t, CPApplyHandler(cp, ""))
	f := NewHTTPForwarder("", 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := f.ForwardCP(ctx, addr, register(svcA, "10.0.0.1", false))
	if took := time.Since(start); took > time.Second {
		t.Fatalf("answered after %s with a 400 ms budget", took)
	}
	if !errors.Is(err, naming.ErrUnavailable) || !strings.HasPrefix(err.Error(), "leader:") {
		t.Fatalf("got %v, want the leader's own answer", err)
	}
}

// raftConfig is raftcp's DefaultConfig with timings short enough for an
// in-process cluster (the caller sets ApplyTimeout).
func raftConfig() raftcp.Config {
	c := raftcp.DefaultConfig()
	c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = 100*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond
	c.CommitTimeout, c.SnapshotInterval = 5*time.Millisecond, 100*time.Millisecond
	return c
}
