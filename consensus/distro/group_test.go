package distro

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sextant/naming"
)

// A sweep's judgements of one service, applied as a group on the
// responsible node, are one change of the service there, and reach every
// member as the same ops applied one by one would: the expired instances
// are gone everywhere (each with its tombstone), the flipped ones are
// unhealthy everywhere, and one whose beat moved since the sweep's
// decision is left alone. On a member that is not responsible the group
// is forwarded op by op, with the same results.
func TestApplyGroupExpiresAsOneChange(t *testing.T) {
	h := newHarness(t, 3, testConfig(), clusterConfig())
	a, b := h.addrs[0], h.addrs[1]
	k := keyOwnedBy(t, a, h.addrs, "group")
	const n = 60
	for i := range n {
		if err := h.applyRetry(a, registerOp(k, fmt.Sprintf("10.3.0.%d", i), 80), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	for _, addr := range h.addrs {
		waitFor(t, 5*time.Second, func() bool { return len(ips(h.node(addr).cat, k)) == n })
	}
	judge := func(i int, kind naming.OpKind) naming.Op {
		ik := naming.InstanceKey{IP: fmt.Sprintf("10.3.0.%d", i), Port: 80, Cluster: naming.DefaultCluster}
		in, _ := h.node(a).cat.Instance(k, ik)
		op := naming.Op{Kind: kind, Time: time.Now().UnixMilli(), Service: k, Ephemeral: true, Target: ik, ExpectBeat: in.LastBeat()}
		if kind == naming.OpSetHealth {
			op.Check = &naming.CheckResult{Time: op.Time, Reason: "no beat for 15s"}
		}
		return op
	}
	var ops []naming.Op
	for i := range 20 {
		ops = append(ops, judge(i, naming.OpDeregister))
	}
	for i := 20; i < 40; i++ {
		ops = append(ops, judge(i, naming.OpSetHealth))
	}
	stale := judge(40, naming.OpDeregister)
	stale.ExpectBeat-- // the instance beat after the sweep looked
	ops = append(ops, stale)

	before, _ := h.node(a).cat.View(k)
	for i, err := range h.node(a).eng.ApplyGroup(context.Background(), ops) {
		if err != nil {
			t.Fatalf("op %d (%s): %v", i, ops[i].Kind, err)
		}
	}
	if after, _ := h.node(a).cat.View(k); after.Revision != before.Revision+1 {
		t.Fatalf("the group took revisions %d -> %d on the responsible node, want one change", before.Revision, after.Revision)
	}
	for i := range 20 {
		if h.node(a).eng.tombs.get(k, ops[i].Target) == 0 {
			t.Fatalf("%s expired without a tombstone", ops[i].Target.Addr())
		}
	}
	settled := func(addr string) bool {
		v, _ := h.node(addr).cat.View(k)
		if v == nil || v.Len() != n-20 {
			return false
		}
		for in := range v.All() {
			var i int
			fmt.Sscanf(in.IP, "10.3.0.%d", &i)
			if in.Healthy != (i >= 40) {
				return false
			}
		}
		return true
	}
	for _, addr := range h.addrs {
		waitFor(t, 5*time.Second, func() bool { return settled(addr) })
	}

	// Through a member that is not responsible: forwarded one by one.
	var more []naming.Op
	for i := 40; i < 45; i++ {
		more = append(more, judge(i, naming.OpDeregister))
	}
	for i, err := range h.node(b).eng.ApplyGroup(context.Background(), more) {
		if err != nil {
			t.Fatalf("forwarded op %d: %v", i, err)
		}
	}
	for _, addr := range h.addrs {
		waitFor(t, 5*time.Second, func() bool { return len(ips(h.node(addr).cat, k)) == n-25 })
	}
}
