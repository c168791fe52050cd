package distro

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"sextant/naming"
)

// foreignKey returns a service key that node addr does not own, and its owner.
func foreignKey(h *harness, addr, prefix string) (naming.ServiceKey, string) {
	for i := 0; ; i++ {
		k := svc(fmt.Sprintf("%s-%d", prefix, i))
		if owner := h.node(addr).eng.Owner(k); owner != addr {
			return k, owner
		}
	}
}

// A registration or deregistration sent to a node that does not own the
// service is visible on that node as soon as the write is acknowledged,
// not a sync delay later, and the owner's sync then changes nothing there.
func TestForwardedWriteVisibleOnAck(t *testing.T) {
	cfg, ccfg, _ := timings()
	cfg.SyncDelay = time.Minute // no sync during the checks below
	cfg.VerifyInterval = 20 * time.Second
	h := newHarness(t, 3, cfg, ccfg)
	recv := h.addrs[0]
	k, owner := foreignKey(h, recv, "fresh")
	ctx := context.Background()

	// Stamped as the router stamps writes, a second apart, so the
	// owner keeps both stamps.
	t0 := time.Now().UnixMilli()
	reg := registerOp(k, "10.9.0.1", 80)
	reg.Time = t0
	if err := h.node(recv).eng.Apply(ctx, reg); err != nil {
		t.Fatal(err)
	}
	if got := ips(h.node(recv).cat, k); !slices.Equal(got, []string{"10.9.0.1:80"}) {
		t.Fatalf("after the acknowledgement the receiving node holds %v", got)
	}
	mine, _ := h.node(recv).cat.Service(k)
	theirs, _ := h.node(owner).cat.Service(k)
	ik := naming.InstanceKey{IP: "10.9.0.1", Port: 80, Cluster: naming.DefaultCluster}
	if a, b := mine.Find(ik), theirs.Find(ik); compareContent(a, b) != 0 {
		t.Fatalf("the receiving node holds %+v, the owner %+v", *a, *b)
	}
	if mine.EphemeralChecksum != theirs.EphemeralChecksum {
		t.Fatal("receiving node and owner differ in checksum")
	}

	// The owner's record, merged as its sync would, changes nothing.
	rev := mine.Revision
	if changed, err := h.node(recv).eng.mergeRecord(h.node(owner).eng.snapshot(k), false); err != nil || changed {
		t.Fatalf("the owner's record changed the copy again: %v, %v", changed, err)
	}
	if s, _ := h.node(recv).cat.Service(k); s.Revision != rev {
		t.Fatal("the owner's record published a new view")
	}

	dereg := deregisterOp(k, "10.9.0.1", 80)
	dereg.Time = t0 + 1000
	if err := h.node(recv).eng.Apply(ctx, dereg); err != nil {
		t.Fatal(err)
	}
	if got := ips(h.node(recv).cat, k); len(got) != 0 {
		t.Fatalf("after the deregistration's acknowledgement the receiving node holds %v", got)
	}
	if changed, err := h.node(recv).eng.mergeRecord(h.node(owner).eng.snapshot(k), false); err != nil || changed {
		t.Fatalf("the owner's record after the deregistration changed the copy: %v, %v", changed, err)
	}
}

// When the owner holds a later version of the instance than the write it
// is forwarded, it stamps the write later still; the receiving node shows
// the write at once and takes the owner's version from its record.
func TestForwardedWriteOwnerStampsLater(t *testing.T) {
	cfg, ccfg, _ := timings()
	cfg.SyncDelay = time.Minute
	cfg.VerifyInterval = 20 * time.Second
	h := newHarness(t, 3, cfg, ccfg)
	recv := h.addrs[0]
	k, owner := foreignKey(h, recv, "later")
	ctx := context.Background()
	later := registerOp(k, "10.9.0.2", 80)
	later.Time = time.Now().UnixMilli() + 60_000
	later.Instance.Weight = 7
	if err := h.node(owner).eng.Apply(ctx, later); err != nil {
		t.Fatal(err)
	}
	op := registerOp(k, "10.9.0.2", 80)
	op.Time = time.Now().UnixMilli() // as the router stamps writes
	op.Instance.Weight = 3
	if err := h.node(recv).eng.Apply(ctx, op); err != nil {
		t.Fatal(err)
	}
	ik := naming.InstanceKey{IP: "10.9.0.2", Port: 80, Cluster: naming.DefaultCluster}
	if s, _ := h.node(recv).cat.Service(k); s == nil || s.Find(ik) == nil || s.Find(ik).Weight != 3 {
		t.Fatal("the acknowledged write is not visible on the receiving node")
	}
	if _, err := h.node(recv).eng.mergeRecord(h.node(owner).eng.snapshot(k), false); err != nil {
		t.Fatal(err)
	}
	mine, _ := h.node(recv).cat.Service(k)
	theirs, _ := h.node(owner).cat.Service(k)
	if theirs.Find(ik).Updated <= later.Time || theirs.Find(ik).Weight != 3 {
		t.Fatalf("the owner holds %+v", *theirs.Find(ik))
	}
	if mine.EphemeralChecksum != theirs.EphemeralChecksum {
		t.Fatalf("the receiving node holds %+v, the owner %+v", *mine.Find(ik), *theirs.Find(ik))
	}
	// A later write through the receiving node is newer than the owner's.
	again := registerOp(k, "10.9.0.2", 80)
	again.Time = later.Time + 10_000
	again.Instance.Weight = 5
	if err := h.node(recv).eng.Apply(ctx, again); err != nil {
		t.Fatal(err)
	}
	if s, _ := h.node(recv).cat.Service(k); s.Find(ik).Weight != 5 {
		t.Fatalf("the receiving node holds weight %v after a newer write", s.Find(ik).Weight)
	}
}
