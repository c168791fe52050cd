package naming

import (
	"fmt"
	"math/rand"
	"testing"
)

// scratchSums returns the checksums of a view computed from nothing but its
// threshold and instances.
func scratchSums(s *Service) (all, eph string) {
	f := &Service{Key: s.Key, Meta: s.Meta, Instances: s.Instances}
	return checksum(f), ephemeralChecksum(f)
}

// randomOp is one of the instance and service changes the catalog takes.
func randomOp(r *rand.Rand, now int64) Op {
	k := NewServiceKey("", "", fmt.Sprint("svc-", r.Intn(3)))
	target := InstanceKey{IP: fmt.Sprint("10.0.0.", r.Intn(8)+1), Port: 80 + r.Intn(2), Cluster: DefaultCluster}
	inst := func() *Instance {
		return &Instance{IP: target.IP, Port: target.Port, Cluster: target.Cluster, Weight: float64(r.Intn(3)),
			Healthy: r.Intn(4) > 0, Enabled: r.Intn(4) > 0, Ephemeral: r.Intn(3) > 0,
			Metadata: map[string]string{"v": fmt.Sprint(r.Intn(3))}}
	}
	switch r.Intn(8) {
	case 0, 1:
		return Op{Kind: OpRegister, Time: now, Service: k, Instance: inst()}
	case 2:
		return Op{Kind: OpDeregister, Time: now, Service: k, Target: target}
	case 3:
		w := float64(r.Intn(3))
		return Op{Kind: OpUpdateInstance, Time: now, Service: k, Target: target, Patch: &InstancePatch{Weight: &w}}
	case 4:
		return Op{Kind: OpSetHealth, Time: now, Service: k, Target: target, Healthy: r.Intn(2) == 0}
	case 5:
		var list []*Instance
		for i := r.Intn(4); i > 0; i-- {
			in := inst()
			in.IP = fmt.Sprint("10.0.0.", r.Intn(8)+1)
			list = append(list, in)
		}
		return Op{Kind: OpReplaceEphemeral, Time: now, Service: k, Instances: list}
	case 6:
		return Op{Kind: OpBeat, Time: now, Service: k, Target: target, Instance: inst()}
	}
	return Op{Kind: OpUpdateService, Time: now, Service: k, Meta: &ServiceMeta{ProtectThreshold: float64(r.Intn(3)) / 2}}
}

// The checksums a view carries, derived from the previous view's, are those
// computed from the view alone, through every kind of change; so is its
// count of persistent instances.
func TestChecksumsFollowChanges(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	c := NewCatalog()
	for i := 0; i < 3000; i++ {
		_ = c.Apply(randomOp(r, int64(i+1)))
		for _, s := range c.Services("", "") {
			all, eph := scratchSums(s)
			if s.Checksum != all || s.EphemeralChecksum != eph {
				t.Fatalf("op %d: %v carries %s/%s, computed alone %s/%s", i, s.Key, s.Checksum, s.EphemeralChecksum, all, eph)
			}
			persistent := 0
			for _, in := range s.Instances {
				if !in.Ephemeral {
					persistent++
				}
			}
			if got := s.PersistentLen(); got != persistent {
				t.Fatalf("op %d: %v counts %d persistent instances, holds %d", i, s.Key, got, persistent)
			}
		}
	}
}

// Equal content gives equal checksums, whatever order it came in; a visible
// change gives a new checksum, a beat does not.
func TestChecksumsDependOnContentOnly(t *testing.T) {
	k := NewServiceKey("", "", "svc")
	in := func(i int) *Instance {
		return &Instance{IP: fmt.Sprint("10.0.0.", i), Port: 80, Cluster: DefaultCluster, Weight: 1,
			Healthy: true, Enabled: true, Ephemeral: i%2 == 0, Metadata: map[string]string{"i": fmt.Sprint(i)}}
	}
	a, b := NewCatalog(), NewCatalog()
	for i := 1; i <= 6; i++ {
		if err := a.Apply(Op{Kind: OpRegister, Time: int64(i), Service: k, Instance: in(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 9; i >= 1; i-- {
		if err := b.Apply(Op{Kind: OpRegister, Time: int64(20 - i), Service: k, Instance: in(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 7; i <= 9; i++ {
		if err := b.Apply(Op{Kind: OpDeregister, Time: 30, Service: k, Target: in(i).Key()}); err != nil {
			t.Fatal(err)
		}
	}
	sa, _ := a.Service(k)
	sb, _ := b.Service(k)
	if sa.Checksum != sb.Checksum || sa.EphemeralChecksum != sb.EphemeralChecksum {
		t.Fatalf("same content, different checksums: %s/%s vs %s/%s", sa.Checksum, sa.EphemeralChecksum, sb.Checksum, sb.EphemeralChecksum)
	}
	prev := sa
	step := func(what string, op Op, wantAll, wantEph bool) {
		t.Helper()
		op.Service, op.Time = k, 40
		if err := a.Apply(op); err != nil {
			t.Fatal(err)
		}
		s, _ := a.Service(k)
		if (s.Checksum != prev.Checksum) != wantAll || (s.EphemeralChecksum != prev.EphemeralChecksum) != wantEph {
			t.Errorf("%s: checksum changed %v (want %v), ephemeral checksum changed %v (want %v)", what,
				s.Checksum != prev.Checksum, wantAll, s.EphemeralChecksum != prev.EphemeralChecksum, wantEph)
		}
		prev = s
	}
	w := 2.0
	step("beat", Op{Kind: OpBeat, Target: in(2).Key()}, false, false)
	step("ephemeral weight", Op{Kind: OpUpdateInstance, Target: in(2).Key(), Patch: &InstancePatch{Weight: &w}}, true, true)
	step("persistent weight", Op{Kind: OpUpdateInstance, Target: in(1).Key(), Patch: &InstancePatch{Weight: &w}}, true, false)
	step("health", Op{Kind: OpSetHealth, Target: in(4).Key(), Healthy: false}, true, true)
	step("metadata", Op{Kind: OpUpdateInstance, Target: in(6).Key(), Patch: &InstancePatch{Metadata: map[string]string{"i": "x"}}}, true, true)
	step("threshold", Op{Kind: OpUpdateService, Meta: &ServiceMeta{ProtectThreshold: 0.5}}, true, false)
	step("deregister", Op{Kind: OpDeregister, Target: in(4).Key()}, true, true)
}
