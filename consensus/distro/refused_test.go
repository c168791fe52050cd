package distro

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"sextant/naming"
)

// movingView is a member view the test changes; its hash is the number of
// live members, as fixedView's.
type movingView struct {
	self string
	live atomic.Pointer[[]string]
}

func (v *movingView) set(live ...string)                       { v.live.Store(&live) }
func (v *movingView) Self() string                             { return v.self }
func (v *movingView) Live() []string                           { return slices.Clone(*v.live.Load()) }
func (v *movingView) Hash() uint64                             { return uint64(len(*v.live.Load())) }
func (v *movingView) Watch(func()) (cancel func())             { return func() {} }
func (v *movingView) Agreed() bool                             { return true }
func (v *movingView) PeerLive(string, uint64) ([]string, bool) { return nil, false }

// A client's deregistration that a peer refuses while its member view
// differs reaches it soon after the views agree again, not a RetryInterval
// later: acknowledged on the responsible node, it must be on a peer before
// a crash of that node can lose it.
func TestRefusedSyncIsRetriedSoon(t *testing.T) {
	cfg := testConfig()
	cfg.RetryInterval = time.Minute // the old pause after any failure
	cfg.VerifyInterval = time.Hour  // only the sync moves data
	cfg.TombstoneTTL = 3 * time.Hour
	cfg.LoadTimeout = 100 * time.Millisecond
	a, b := "10.0.0.1:8848", "10.0.0.2:8848"
	net := NewNetwork(1)
	vb := &movingView{self: b}
	vb.set(a, b)
	es := startEngines(t, cfg, net, []View{fixedView{self: a, live: []string{a, b}}, vb}, net.Transport)
	ea, eb := es[0], es[1]
	k := keyOwnedBy(t, a, []string{a, b}, "refused")
	if err := ea.Apply(context.Background(), registerOp(k, "10.7.0.1", 80)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, func() bool { return len(ips(eb.cat.(*naming.Catalog), k)) == 1 })

	vb.set(a, b, "10.0.0.3:8848") // b now sees another cluster: it refuses a's messages
	if err := ea.Apply(context.Background(), deregisterOp(k, "10.7.0.1", 80)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, func() bool { return eb.Stats().Rejected > 0 })
	vb.set(a, b) // the views agree again
	waitFor(t, 5*time.Second, func() bool { return len(ips(eb.cat.(*naming.Catalog), k)) == 0 })
}
