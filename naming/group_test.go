package naming

import (
	"errors"
	"math/rand"
	"testing"
)

// A group of ops on one service leaves the catalog exactly as the same ops
// applied one by one would (instances, digests, the time of the last
// change, the flip counts), gives each op the error it gets alone, and is
// one change: one revision, one notification.
func TestApplyGroupIsOneChange(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for round := range 40 {
		group, k := largeCatalog(t)
		single, _ := largeCatalog(t)
		stamp := int64(10)
		if round%2 == 0 {
			// Some instances unhealthy already, so the group flips both ways.
			for i := range 2000 {
				op := Op{Kind: OpSetHealth, Time: stamp, Service: k, Target: largeInstance(i * 5).Key(), Ephemeral: true}
				if group.Apply(op) != nil || single.Apply(op) != nil {
					t.Fatal("could not flip an instance")
				}
			}
		}
		var ops []Op
		for range 1 + rng.Intn(300) {
			stamp++
			in := largeInstance(rng.Intn(largeSize + 50))
			kind := rng.Intn(5)
			if round%2 == 0 {
				kind = 3 // health only: the sweep's group (healthGroup), instances missing too
			}
			switch kind {
			case 0:
				ops = append(ops, Op{Kind: OpDeregister, Time: stamp, Service: k, Target: in.Key(), Ephemeral: true})
			case 1:
				// An expiry decided on a beat that has moved since: a no-op.
				ops = append(ops, Op{Kind: OpDeregister, Time: stamp, Service: k, Target: in.Key(), Ephemeral: true, ExpectBeat: 7})
			case 2:
				ops = append(ops, Op{Kind: OpRegister, Time: stamp, Service: k, Instance: in})
			default:
				ops = append(ops, Op{Kind: OpSetHealth, Time: stamp, Service: k, Target: in.Key(), Healthy: rng.Intn(2) == 0, Ephemeral: true,
					Check: &CheckResult{Time: stamp, Reason: "no beat"}})
			}
		}
		if round%8 == 4 && len(ops) > 1 {
			dup := ops[0] // the same instance twice: built op after op
			dup.Healthy = !dup.Healthy
			ops = append(ops, dup)
		}
		if round%4 == 1 {
			ops = append(ops, Op{Kind: OpSetHealth, Time: stamp, Service: NewServiceKey("", "", "other"), Target: largeInstance(1).Key(), Ephemeral: true})
		}
		if round%4 == 2 {
			ops = append(ops, Op{Kind: OpSetHealth, Time: stamp, Service: k, Ephemeral: true}) // no target
		}
		notified := 0
		cancel := group.Watch(func(ServiceKey) { notified++ })
		before, _ := group.View(k)
		errs := group.ApplyGroup(ops)
		cancel()
		for i, op := range ops {
			err := single.Apply(op)
			if op.Service != k {
				if !errors.Is(errs[i], ErrInvalid) {
					t.Fatalf("round %d: an op of another service in the group: %v", round, errs[i])
				}
				continue
			}
			if (err == nil) != (errs[i] == nil) || err != nil && err.Error() != errs[i].Error() {
				t.Fatalf("round %d, op %d (%s): %v in the group, %v alone", round, i, op.Kind, errs[i], err)
			}
		}
		g, _ := group.View(k)
		s, _ := single.View(k)
		if g.Checksum != s.Checksum || g.EphemeralChecksum != s.EphemeralChecksum || g.Modified != s.Modified || g.Len() != s.Len() || g.PersistentLen() != s.PersistentLen() {
			t.Fatalf("round %d: the group left %d instances (%s, modified %d), the single ops %d (%s, modified %d)",
				round, g.Len(), g.Checksum, g.Modified, s.Len(), s.Checksum, s.Modified)
		}
		var gl, sl []*Instance
		for in := range g.All() {
			gl = append(gl, in)
		}
		for in := range s.All() {
			sl = append(sl, in)
		}
		for i := range gl {
			if gl[i].Key() != sl[i].Key() || gl[i].Healthy != sl[i].Healthy || gl[i].Updated != sl[i].Updated || gl[i].Check != sl[i].Check {
				t.Fatalf("round %d: instance %d differs: %+v in the group, %+v alone", round, i, gl[i], sl[i])
			}
		}
		if group.HealthFlips() != single.HealthFlips() {
			t.Fatalf("round %d: flips %+v in the group, %+v alone", round, group.HealthFlips(), single.HealthFlips())
		}
		if g != before && (g.Revision != before.Revision+1 || notified != 1) {
			t.Fatalf("round %d: the group took revisions %d -> %d and %d notifications", round, before.Revision, g.Revision, notified)
		}
	}
}
