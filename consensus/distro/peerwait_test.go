package distro

import (
	"context"
	"slices"
	"testing"
	"time"

	"sextant/naming"
)

// A client's deregistration answered by its responsible node is held by a
// peer when the answer comes, even on links slow enough that the sync
// could not have landed otherwise: a crash of the responsible node right
// after the answer cannot lose it.
func TestDeregistrationAnsweredOncePeerHoldsIt(t *testing.T) {
	cfg := testConfig()
	cfg.VerifyInterval = time.Hour // only the sync moves data
	cfg.TombstoneTTL = 3 * time.Hour
	a, b, c := "10.0.0.1:8848", "10.0.0.2:8848", "10.0.0.3:8848"
	live := []string{a, b, c}
	net := NewNetwork(1)
	es := startEngines(t, cfg, net, []View{fixedView{a, live}, fixedView{b, live}, fixedView{c, live}}, net.Transport)
	k := keyOwnedBy(t, a, live, "confirmed")
	for _, ip := range []string{"10.7.0.1", "10.7.0.2"} {
		if err := es[0].Apply(context.Background(), registerOp(k, ip, 80)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 3*time.Second, func() bool {
		return len(ips(es[1].cat.(*naming.Catalog), k)) == 2 && len(ips(es[2].cat.(*naming.Catalog), k)) == 2
	})

	net.Delay(80 * time.Millisecond) // every message takes 80 ms
	if err := es[0].Apply(context.Background(), deregisterOp(k, "10.7.0.1", 80)); err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, e := range es[1:] {
		if !slices.Contains(ips(e.cat.(*naming.Catalog), k), "10.7.0.1:80") {
			held++
		}
	}
	if held == 0 {
		t.Fatal("the deregistration was answered before any peer held it")
	}
	if n := es[0].Stats().UnconfirmedDeregistrations; n != 0 {
		t.Errorf("%d deregistrations answered unconfirmed, want 0", n)
	}
}

// With no peer answering, a client's deregistration is still answered,
// after the bound, and counted; the next one does not wait while no sync
// got through; once one does, deregistrations wait again.
func TestUnconfirmedDeregistrationIsAnsweredAtTheBound(t *testing.T) {
	cfg := testConfig()
	cfg.VerifyInterval = time.Hour
	cfg.TombstoneTTL = 3 * time.Hour
	a, b := "10.0.0.1:8848", "10.0.0.2:8848"
	live := []string{a, b}
	net := NewNetwork(1)
	es := startEngines(t, cfg, net, []View{fixedView{a, live}, fixedView{b, live}}, net.Transport)
	ea, eb := es[0], es[1]
	k := keyOwnedBy(t, a, live, "unconfirmed")
	for _, ip := range []string{"10.7.0.1", "10.7.0.2", "10.7.0.3"} {
		if err := ea.Apply(context.Background(), registerOp(k, ip, 80)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 3*time.Second, func() bool { return len(ips(eb.cat.(*naming.Catalog), k)) == 3 })

	net.Partition([]string{a}, []string{b})
	if err := ea.Apply(context.Background(), deregisterOp(k, "10.7.0.1", 80)); err != nil {
		t.Fatal(err)
	}
	if n := ea.Stats().UnconfirmedDeregistrations; n != 1 {
		t.Fatalf("%d deregistrations answered unconfirmed, want 1", n)
	}
	start := time.Now()
	if err := ea.Apply(context.Background(), deregisterOp(k, "10.7.0.2", 80)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= peerWaitBound {
		t.Errorf("the second deregistration waited %v while no sync got through", d)
	}
	if n := ea.Stats().UnconfirmedDeregistrations; n != 2 {
		t.Fatalf("%d deregistrations answered unconfirmed, want 2", n)
	}

	net.Heal()
	waitFor(t, 5*time.Second, func() bool { return len(ips(eb.cat.(*naming.Catalog), k)) == 1 })
	waitFor(t, 5*time.Second, func() bool { return !ea.peerWaitsLate.Load() })
	net.Delay(80 * time.Millisecond)
	if err := ea.Apply(context.Background(), deregisterOp(k, "10.7.0.3", 80)); err != nil {
		t.Fatal(err)
	}
	if got := ips(eb.cat.(*naming.Catalog), k); len(got) != 0 {
		t.Errorf("peer lists %v when the third deregistration is answered", got)
	}
	if n := ea.Stats().UnconfirmedDeregistrations; n != 2 {
		t.Errorf("%d deregistrations answered unconfirmed, want still 2", n)
	}
}
