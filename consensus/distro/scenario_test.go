package distro

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"sextant/naming"
)

// client is a simulated live client: it beats its instance (a full beat,
// which re-creates a missing instance) through the nodes it can reach.
type client struct {
	key  naming.ServiceKey
	ip   string
	via  []string // nodes the client may talk to, tried in turn
	stop bool
}

// beaters runs clients until cancelled, one beat each per period.
type beaters struct {
	mu      sync.Mutex
	clients []*client
	cancel  context.CancelFunc
	done    chan struct{}
}

func startBeaters(h *harness, period time.Duration) *beaters {
	ctx, cancel := context.WithCancel(context.Background())
	b := &beaters{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(period)
		defer t.Stop()
		for n := 0; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			b.mu.Lock()
			cs := slices.Clone(b.clients)
			b.mu.Unlock()
			for _, c := range cs {
				b.mu.Lock()
				stopped, via := c.stop, slices.Clone(c.via)
				b.mu.Unlock()
				if stopped {
					continue
				}
				for i := range via {
					nd := h.node(via[(n+i)%len(via)])
					if nd != nil && nd.eng.Apply(ctx, beatOp(c.key, c.ip, 80)) == nil {
						break
					}
				}
			}
		}
	}()
	return b
}

func (b *beaters) add(c *client) {
	b.mu.Lock()
	b.clients = append(b.clients, c)
	b.mu.Unlock()
}

func (b *beaters) set(c *client, via []string, stop bool) {
	b.mu.Lock()
	c.via, c.stop = via, stop
	b.mu.Unlock()
}

func (b *beaters) close() {
	b.cancel()
	<-b.done
}

// holdsExactly reports whether every running node holds exactly want (a
// map service → sorted "ip:port" list) for the services named in want.
func (h *harness) holdsExactly(want map[naming.ServiceKey][]string) bool {
	for _, nd := range h.running() {
		for k, w := range want {
			if !slices.Equal(ips(nd.cat, k), w) {
				return false
			}
		}
	}
	return true
}

func TestPartitionHealConverges(t *testing.T) {
	cfg, ccfg, scale := timings()
	h := newHarness(t, 5, cfg, ccfg)
	sideA, sideB := h.addrs[:3], h.addrs[3:]
	bt := startBeaters(h, 50*time.Millisecond)
	defer bt.close()

	const services = 12
	keys := make([]naming.ServiceKey, services)
	want := map[naming.ServiceKey]map[string]bool{}
	track := func(k naming.ServiceKey, ip string, present bool) {
		if want[k] == nil {
			want[k] = map[string]bool{}
		}
		if present {
			want[k][ip+":80"] = true
		} else {
			delete(want[k], ip+":80")
		}
	}
	// Before the partition: one live client per service beating on every
	// node, and two "victims" that side A and side B will deregister.
	clients := map[string]*client{}
	for i := range keys {
		keys[i] = svc(fmt.Sprintf("part-%d", i))
		ip := fmt.Sprintf("10.1.%d.1", i)
		if err := h.applyRetry(h.addrs[i%5], registerOp(keys[i], ip, 80), scale*time.Second); err != nil {
			t.Fatal(err)
		}
		c := &client{key: keys[i], ip: ip, via: h.addrs}
		clients[ip] = c
		bt.add(c)
		track(keys[i], ip, true)
	}
	victimA, victimB := keys[0], keys[1]
	for _, k := range []naming.ServiceKey{victimA, victimB} {
		if err := h.applyRetry(h.addrs[0], registerOp(k, "10.9.9.9", 80), scale*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, scale*3*time.Second, func() bool {
		return h.converged() && len(ips(h.node(h.addrs[4]).cat, victimB)) == 2
	})

	h.net.Partition(sideA, sideB)
	h.waitAgreed(sideA)
	h.waitAgreed(sideB)
	// Every client now reaches one side only.
	for i := range keys {
		c := clients[fmt.Sprintf("10.1.%d.1", i)]
		if i%2 == 0 {
			bt.set(c, sideA, false)
		} else {
			bt.set(c, sideB, false)
		}
	}

	// Writes on both sides: new instances (their clients keep beating on
	// that side) and one deregistration per side.
	for i, k := range keys {
		for s, side := range [][]string{sideA, sideB} {
			ip := fmt.Sprintf("10.2.%d.%d", i, s+1)
			if err := h.applyRetry(side[i%len(side)], registerOp(k, ip, 80), scale*2*time.Second); err != nil {
				t.Fatalf("register on side %d: %v", s, err)
			}
			c := &client{key: k, ip: ip, via: side}
			bt.add(c)
			track(k, ip, true)
		}
	}
	if err := h.applyRetry(sideA[1], deregisterOp(victimA, "10.9.9.9", 80), scale*2*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := h.applyRetry(sideB[0], deregisterOp(victimB, "10.9.9.9", 80), scale*2*time.Second); err != nil {
		t.Fatal(err)
	}
	// A live client of side A deregistered on side B (an operator's
	// mistake): the tombstone wins the merge, then its beats bring it back.
	flip := clients["10.1.2.1"]
	if err := h.applyRetry(sideB[1], deregisterOp(flip.key, flip.ip, 80), scale*2*time.Second); err != nil {
		t.Fatal(err)
	}
	// Each side converges on its own.
	waitFor(t, scale*3*time.Second, func() bool {
		for _, nd := range h.running() {
			victim := victimA
			if slices.Contains(sideB, nd.addr) {
				victim = victimB
			}
			if slices.Contains(ips(nd.cat, victim), "10.9.9.9:80") {
				return false
			}
		}
		return true
	})

	healed := time.Now()
	h.net.Heal()
	for _, c := range clients {
		bt.set(c, h.addrs, false)
	}
	h.waitAgreed(h.addrs)
	final := map[naming.ServiceKey][]string{}
	for k, set := range want {
		var l []string
		for a := range set {
			l = append(l, a)
		}
		slices.Sort(l)
		final[k] = l
	}
	waitFor(t, scale*10*time.Second, func() bool { return h.converged() && h.holdsExactly(final) })
	t.Logf("converged %v after heal", time.Since(healed).Round(time.Millisecond))

	// Deregistrations stay deregistered through further verify rounds.
	time.Sleep(3 * cfg.VerifyInterval) // let several rounds run; the state must not move
	if !h.converged() || !h.holdsExactly(final) {
		for _, nd := range h.running() {
			t.Logf("%s: victimA %v victimB %v", nd.addr, ips(nd.cat, victimA), ips(nd.cat, victimB))
		}
		t.Fatal("state moved after convergence")
	}
	for _, nd := range h.running() {
		for _, k := range []naming.ServiceKey{victimA, victimB} {
			if slices.Contains(ips(nd.cat, k), "10.9.9.9:80") {
				t.Fatalf("%s resurrected a deregistered instance of %s", nd.addr, k)
			}
		}
	}
}

func TestOwnershipMovesWhenIsolated(t *testing.T) {
	h := newHarness(t, 4, testConfig(), clusterConfig())
	lost := h.addrs[3]
	rest := h.addrs[:3]
	before := map[naming.ServiceKey]string{}
	var lostKeys []naming.ServiceKey
	for i := range 200 {
		k := svc(fmt.Sprintf("own-%d", i))
		before[k] = h.node(h.addrs[0]).eng.Owner(k)
		if before[k] == lost {
			lostKeys = append(lostKeys, k)
		}
	}
	if len(lostKeys) == 0 {
		t.Fatal("the isolated node owns nothing")
	}
	k0 := lostKeys[0]
	if err := h.applyRetry(rest[0], registerOp(k0, "10.1.0.1", 80), time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, func() bool { return h.converged() })

	h.net.Isolate(lost)
	h.waitAgreed(rest)
	for k, old := range before {
		var owners []string
		for _, a := range rest {
			if h.node(a).eng.Owns(k) {
				owners = append(owners, a)
			}
		}
		if len(owners) != 1 {
			t.Fatalf("%s has owners %v", k, owners)
		}
		if old != lost && owners[0] != old {
			t.Fatalf("%s moved from %s to %s though its owner stayed", k, old, owners[0])
		}
		if owners[0] != Owner(k, rest) {
			t.Fatalf("%s owned by %s, rendezvous says %s", k, owners[0], Owner(k, rest))
		}
	}
	// The new owner takes writes for the moved key and holds its data.
	newOwner := Owner(k0, rest)
	if got := ips(h.node(newOwner).cat, k0); !slices.Equal(got, []string{"10.1.0.1:80"}) {
		t.Fatalf("new owner holds %v", got)
	}
	if err := h.applyRetry(rest[0], registerOp(k0, "10.1.0.2", 80), time.Second); err != nil {
		t.Fatal(err)
	}

	// The node comes back, takes its keys back and catches up.
	h.net.Heal()
	h.waitAgreed(h.addrs)
	if !h.node(lost).eng.Owns(k0) {
		t.Fatal("returning node did not take its key back")
	}
	waitFor(t, 3*time.Second, func() bool {
		return slices.Equal(ips(h.node(lost).cat, k0), []string{"10.1.0.1:80", "10.1.0.2:80"}) && h.converged()
	})
}

func TestRestartLoadsEverything(t *testing.T) {
	h := newHarness(t, 3, testConfig(), clusterConfig())
	for i := range 40 {
		k := svc(fmt.Sprintf("load-%d", i))
		for j := range 3 {
			if err := h.applyRetry(h.addrs[(i+j)%3], registerOp(k, fmt.Sprintf("10.1.%d.%d", i, j), 80), time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, 3*time.Second, h.converged)
	gone := h.addrs[2]
	h.stop(gone)
	h.waitAgreed(h.addrs[:2])
	// Changes while it is away.
	for i := range 10 {
		k := svc(fmt.Sprintf("load-%d", i))
		if err := h.applyRetry(h.addrs[0], deregisterOp(k, fmt.Sprintf("10.1.%d.0", i), 80), time.Second); err != nil {
			t.Fatal(err)
		}
		if err := h.applyRetry(h.addrs[1], registerOp(k, fmt.Sprintf("10.3.%d.1", i), 80), time.Second); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 3*time.Second, h.converged)

	nd := h.restart(gone)
	if err := nd.eng.Ready(); err != nil {
		t.Fatalf("not ready after Load: %v", err)
	}
	// Right after Load, before any verify round, the new node holds it all.
	ref := h.node(h.addrs[0]).cat
	for _, s := range ref.Services("", "") {
		got, _ := nd.cat.Service(s.Key)
		if sumOf(got) != sumOf(s) {
			t.Fatalf("%s: restarted node holds %v, peers %v", s.Key, ips(nd.cat, s.Key), ips(ref, s.Key))
		}
	}
	if nd.eng.Stats().LoadedRecords == 0 {
		t.Error("nothing counted as loaded")
	}
}

func TestLoadIsBounded(t *testing.T) {
	cfg := testConfig()
	self := "10.0.0.1:8848"
	// A peer that counts as live but never answers: Load gives up after LoadTimeout.
	v := fixedView{self: self, live: []string{self, "10.0.0.2:8848"}}
	net := NewNetwork(1)
	net.Blackhole(true)
	net.Isolate("10.0.0.2:8848")
	e, err := New(cfg, naming.NewCatalog(), v, net.Transport(self), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if e.Ready() == nil {
		t.Fatal("ready before Load")
	}
	start := time.Now()
	if err := e.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > cfg.LoadTimeout+time.Second {
		t.Fatalf("Load took %v, bound %v", took, cfg.LoadTimeout)
	}
	if e.Ready() != nil {
		t.Fatal("not ready after a bounded Load")
	}
	// A lone node (no live peer) is ready at once.
	lone, _ := New(cfg, naming.NewCatalog(), fixedView{self: self, live: []string{self}}, net.Transport(self), quietLog())
	start = time.Now()
	if err := lone.Load(context.Background()); err != nil || time.Since(start) > cfg.LoadTimeout/2 {
		t.Fatalf("lone load: %v after %v", err, time.Since(start))
	}
	// Cancelling the caller's context leaves the node not ready.
	e2, _ := New(cfg, naming.NewCatalog(), v, net.Transport(self), quietLog())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := e2.Load(ctx); err == nil || e2.Ready() == nil {
		t.Fatalf("cancelled load: err %v, ready %v", err, e2.Ready())
	}
}

func TestVerifyRepairsDroppedSync(t *testing.T) {
	cfg := testConfig()
	cfg.RetryInterval = time.Minute // sync retries never fire: only verify can repair
	cfg.TombstoneTTL = 2 * time.Minute
	h := newHarness(t, 3, cfg, clusterConfig())
	owner := h.node(h.addrs[0])
	k := keyOwnedBy(t, owner.addr, h.addrs, "drop")
	h.net.Drop(1.0)
	if err := owner.eng.Apply(context.Background(), registerOp(k, "10.1.0.1", 80)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, func() bool { return owner.eng.Stats().SyncFailed >= 2 })
	for _, a := range h.addrs[1:] {
		if len(ips(h.node(a).cat, k)) != 0 {
			t.Fatal("a dropped sync arrived")
		}
	}
	h.net.Drop(0)
	waitFor(t, 3*time.Second, func() bool {
		return h.holdsExactly(map[naming.ServiceKey][]string{k: {"10.1.0.1:80"}})
	})
	if st := owner.eng.Stats(); st.VerifyMismatch == 0 {
		t.Errorf("repaired without verify noticing: %+v", st)
	}
}
