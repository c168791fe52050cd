package distro

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"sextant/naming"
)

// ownedBy returns the first service of the form prefix-N that nd's view
// gives to owner.
func ownedBy(t *testing.T, nd *node, owner, prefix string) naming.ServiceKey {
	t.Helper()
	for i := range 1000 {
		if k := svc(fmt.Sprintf("%s-%d", prefix, i)); nd.eng.Owner(k) == owner {
			return k
		}
	}
	t.Fatalf("no service of %s", owner)
	return naming.ServiceKey{}
}

// With only the B–C link cut, every view stays {A,B,C} and B keeps owning
// its services. Its syncs to C fail on the cut link, so they go through A:
// C lists what a client registers with B, and drops what the client
// deregisters, while the link is still cut.
func TestCutLinkSyncsGoThroughAnotherMember(t *testing.T) {
	h := newHarness(t, 3, testConfig(), clusterConfig())
	a, b, c := h.addrs[0], h.addrs[1], h.addrs[2]
	h.net.Partition([]string{b}, []string{c})
	k := ownedBy(t, h.node(a), b, "cut-relay")
	if err := h.applyRetry(b, registerOp(k, "10.3.0.1", 80), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { return has(h.node(c), k, "10.3.0.1:80") })
	if h.node(b).eng.Owner(k) != b || h.node(c).eng.Owner(k) != b {
		t.Fatalf("owner moved: %s by B, %s by C", h.node(b).eng.Owner(k), h.node(c).eng.Owner(k))
	}
	if err := h.applyRetry(b, deregisterOp(k, "10.3.0.1", 80), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { return !has(h.node(c), k, "10.3.0.1:80") })
	if s := h.node(b).eng.Stats(); s.SyncRelayed == 0 {
		t.Fatalf("B relayed no sync: %+v", s)
	}
	if s := h.node(a).eng.Stats(); s.RelaysServed == 0 {
		t.Fatalf("A served no relay: %+v", s)
	}
	// The cut is still there: C's copy did not come over the B–C link.
	if err := h.node(b).eng.t.Sync(context.Background(), c, h.node(b).eng.view.Hash(), nil); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("B → C is not cut: %v", err)
	}
}

// With only the B–C link cut, a write C takes for a service B owns
// reaches B through A, and C's client gets B's answer: the registration
// is on B, and C's beats keep it there.
func TestCutLinkForwardsGoThroughAnotherMember(t *testing.T) {
	h := newHarness(t, 3, testConfig(), clusterConfig())
	a, b, c := h.addrs[0], h.addrs[1], h.addrs[2]
	h.net.Partition([]string{b}, []string{c})
	k := ownedBy(t, h.node(a), b, "cut-forward")
	if err := h.applyRetry(c, registerOp(k, "10.3.1.1", 80), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if !has(h.node(b), k, "10.3.1.1:80") {
		t.Fatalf("the owner does not hold the acknowledged registration: %v", ips(h.node(b).cat, k))
	}
	for range 3 {
		if err := h.node(c).eng.Apply(context.Background(), beatOp(k, "10.3.1.1", 80)); err != nil {
			t.Fatalf("beat through C: %v", err)
		}
	}
	if s := h.node(c).eng.Stats(); s.ForwardsRelayed == 0 {
		t.Fatalf("C relayed no forward: %+v", s)
	}
	if err := h.node(c).eng.t.Sync(context.Background(), b, h.node(c).eng.view.Hash(), nil); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("C → B is not cut: %v", err)
	}
}

// A relay goes only to another live member: not to the sender, not to the
// relaying node, not to an address outside the view.
func TestRelayOnlyToLiveMembers(t *testing.T) {
	h := newHarness(t, 3, testConfig(), clusterConfig())
	a, b := h.addrs[0], h.addrs[1]
	eng := h.node(a).eng
	hash := eng.view.Hash()
	rec := Record{Key: svc("relay-target"), Instances: []*naming.Instance{inst("10.3.0.2", 80, 1)}}
	op := registerOp(rec.Key, "10.3.0.2", 80)
	op.Time = 1
	for _, to := range []string{a, b, "203.0.113.9:8848"} {
		err := eng.OnRelay(context.Background(), b, to, hash, []Record{rec})
		if !errors.Is(err, naming.ErrInvalid) {
			t.Errorf("relay to %s: %v, want an invalid-request error", to, err)
		}
		if _, err := eng.OnRelayForward(context.Background(), b, to, hash, []naming.Op{op}); !errors.Is(err, naming.ErrInvalid) {
			t.Errorf("forward relay to %s: %v, want an invalid-request error", to, err)
		}
	}
	if err := eng.OnRelay(context.Background(), b, h.addrs[2], hash+1, []Record{rec}); !errors.Is(err, naming.ErrUnavailable) {
		t.Errorf("relay with another view's hash: %v, want unavailable", err)
	}
	if _, err := eng.OnRelayForward(context.Background(), b, h.addrs[2], hash+1, []naming.Op{op}); !errors.Is(err, naming.ErrUnavailable) {
		t.Errorf("forward relay with another view's hash: %v, want unavailable", err)
	}
	if s := eng.Stats(); s.RelaysServed != 0 {
		t.Errorf("refused relays counted as served: %d", s.RelaysServed)
	}
	for _, nd := range h.running() {
		if has(nd, rec.Key, "10.3.0.2:80") {
			t.Errorf("%s took a refused relay's record", nd.addr)
		}
	}
}

// Over HTTP, a relayed sync reaches the third node through the second,
// signed with the target in the signed path.
func TestHTTPRelay(t *testing.T) {
	nodes := startHTTPCluster(t, 3, "relay-secret-0123456789")
	from, via, to := nodes[0], nodes[1], nodes[2]
	rec := Record{Key: svc("http-relay"), Instances: []*naming.Instance{inst("10.3.0.3", 80, time.Now().UnixMilli())}}
	if err := from.eng.t.Relay(context.Background(), via.addr, to.addr, from.eng.view.Hash(), []Record{rec}); err != nil {
		t.Fatal(err)
	}
	if got := ips(to.cat, rec.Key); len(got) != 1 || got[0] != "10.3.0.3:80" {
		t.Fatalf("target holds %v", got)
	}
	if got := ips(via.cat, rec.Key); len(got) != 0 {
		t.Fatalf("the relaying node merged the records itself: %v", got)
	}
	err := from.eng.t.Relay(context.Background(), via.addr, "127.0.0.1:1", from.eng.view.Hash(), []Record{rec})
	if !errors.Is(err, naming.ErrInvalid) {
		t.Fatalf("relay to a non-member: %v", err)
	}
	// A write for the service's owner, relayed by another node, gets the
	// owner's answer.
	var k naming.ServiceKey
	owner := from.addr
	for i := 0; owner == from.addr; i++ {
		k = svc(fmt.Sprintf("http-relay-forward-%d", i))
		owner = from.eng.Owner(k)
	}
	var relayVia *httpNode
	for _, nd := range nodes {
		if nd.addr != owner && nd != from {
			relayVia = nd
		}
	}
	errs, err := from.eng.t.RelayForward(context.Background(), relayVia.addr, owner, from.eng.view.Hash(), []naming.Op{registerOp(k, "10.3.0.4", 80)})
	if err != nil || len(errs) != 1 || errs[0] != nil {
		t.Fatalf("relayed forward: %v %v", errs, err)
	}
	for _, nd := range nodes {
		if nd.addr == owner && len(ips(nd.cat, k)) != 1 {
			t.Fatalf("the owner holds %v", ips(nd.cat, k))
		}
	}
}
