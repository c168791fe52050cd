package raftcp

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hashicorp/raft"

	"sextant/naming"
)

// flipOp sets the health of persistent instance i of testService, as the
// owner's probes write it.
func flipOp(i int, healthy bool, at int64) naming.Op {
	return naming.Op{Kind: naming.OpSetHealth, Time: at, Service: testService, Target: regOp(i).Instance.Key(),
		Healthy: healthy, Check: &naming.CheckResult{Time: at, Reason: fmt.Sprint("probe ", healthy)}}
}

// An entry's run of flips of one service is applied as one change of it,
// with the same result as each op in an entry of its own: the same
// instances, digests, time of last change and per-op errors, through random
// entries that mix flips of known and unknown instances (twice the same
// one, too), ephemeral flips, registrations and another service's flips.
func TestFSMAppliesAServicesFlipsAsOneChange(t *testing.T) {
	other := naming.NewServiceKey("", "", "payments")
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 3))
		grouped, single := newFSM(t), newFSM(t)
		index := uint64(0)
		apply := func(f *fsm, ops ...naming.Op) []error {
			index++
			res, ok := f.Apply(&raft.Log{Index: index, Type: raft.LogCommand, Data: entry(t, ops...)}).([]error)
			if !ok || len(res) != len(ops) {
				t.Fatalf("result %#v", res)
			}
			return res
		}
		var setup []naming.Op
		for i := 0; i < 40; i++ {
			setup = append(setup, regOp(i))
		}
		reg := regOp(0)
		reg.Service = other
		setup = append(setup, reg)
		apply(grouped, setup...)
		for _, op := range setup {
			apply(single, op)
		}
		for round := 0; round < 30; round++ {
			at := int64(1700000001000 + round)
			var ops []naming.Op
			for n := 1 + rng.IntN(24); n > 0; n-- {
				op := flipOp(rng.IntN(44), rng.IntN(2) == 0, at) // 40-43 are unknown
				switch rng.IntN(12) {
				case 0:
					op.Ephemeral = true
				case 1:
					op = regOp(rng.IntN(40))
					op.Time = at
					op.Instance.Weight = float64(1 + rng.IntN(3))
				case 2:
					op.Service, op.Target = other, reg.Instance.Key()
				}
				ops = append(ops, op)
			}
			before := lastRevision(grouped.cat, testService, other)
			gerrs := apply(grouped, ops...)
			for i, op := range ops {
				serr := apply(single, op)[0]
				if (gerrs[i] == nil) != (serr == nil) || (serr != nil && !errors.Is(gerrs[i], kindOf(serr))) {
					t.Fatalf("seed %d round %d op %d (%s): grouped %v, alone %v", seed, round, i, op.Kind, gerrs[i], serr)
				}
			}
			for _, key := range []naming.ServiceKey{testService, other} {
				g, _ := grouped.cat.View(key)
				s, _ := single.cat.View(key)
				if g.Checksum != s.Checksum || g.Modified != s.Modified || g.Len() != s.Len() {
					t.Fatalf("seed %d round %d %s: grouped %s (modified %d, %d instances), alone %s (modified %d, %d)",
						seed, round, key, g.Checksum, g.Modified, g.Len(), s.Checksum, s.Modified, s.Len())
				}
				var gl, sl []naming.Instance
				for in := range g.All() {
					gl = append(gl, *in)
				}
				for in := range s.All() {
					sl = append(sl, *in)
				}
				for i := range gl {
					if gl[i].Key() != sl[i].Key() || gl[i].Healthy != sl[i].Healthy || gl[i].Check != sl[i].Check || gl[i].Updated != sl[i].Updated {
						t.Fatalf("seed %d round %d: instance %d grouped %+v, alone %+v", seed, round, i, gl[i], sl[i])
					}
				}
			}
			if grouped.lastTime.Load() != single.lastTime.Load() {
				t.Fatalf("last time %d, alone %d", grouped.lastTime.Load(), single.lastTime.Load())
			}
			// Flips only, all of one service and each of another instance:
			// one change however many there are.
			if onlyFlips(ops) {
				after, _ := grouped.cat.View(testService)
				if changes := after.Revision - before; changes > 1 {
					t.Fatalf("seed %d round %d: %d flips made %d changes of the service, want at most 1", seed, round, len(ops), changes)
				}
			}
		}
	}
}

// lastRevision is the catalog's last revision, that of the service of keys
// changed last.
func lastRevision(cat *naming.Catalog, keys ...naming.ServiceKey) uint64 {
	var rev uint64
	for _, k := range keys {
		if v, ok := cat.View(k); ok {
			rev = max(rev, v.Revision)
		}
	}
	return rev
}

// kindOf is the naming error kind err carries.
func kindOf(err error) error {
	var ne *naming.Error
	if errors.As(err, &ne) {
		return ne.Kind
	}
	return err
}

func onlyFlips(ops []naming.Op) bool {
	for i := range ops {
		if ops[i].Kind != naming.OpSetHealth || ops[i].Ephemeral || ops[i].Service != testService {
			return false
		}
	}
	return true
}

// BenchmarkFSMFlips measures applying entries of 100 probe flips of a
// 10,000-instance persistent service, per flip.
func BenchmarkFSMFlips(b *testing.B) {
	f := newFSM(b)
	var setup []naming.Op
	for i := 0; i < 10000; i++ {
		setup = append(setup, regOp(i))
	}
	f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: entry(b, setup...)})
	// The first half of the entries marks 6,400 instances unhealthy, the
	// second half marks them healthy again: every op is a flip.
	const per = 100
	entries := make([][]byte, 128)
	for k := range entries {
		ops := make([]naming.Op, per)
		for i := range ops {
			ops[i] = flipOp((k%64*per+i)*7%10000, k >= 64, int64(1700000002000+k))
		}
		entries[k] = entry(b, ops...)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		f.Apply(&raft.Log{Index: uint64(2 + n), Type: raft.LogCommand, Data: entries[n%len(entries)]})
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*per), "ns/flip")
}
