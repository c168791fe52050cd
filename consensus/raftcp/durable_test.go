package raftcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"sextant/naming"
)

// The CP state machine depends on its log only: Distro's merges, applied
// to each member's catalog at any point between entries, never change the
// persistent state the log gives.

func svcKey(name string) naming.ServiceKey {
	return naming.ServiceKey{Namespace: naming.DefaultNamespace, Group: naming.DefaultGroup, Name: name}
}

func inst(ip string, eph bool) *naming.Instance {
	return &naming.Instance{IP: ip, Port: 80, Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: eph}
}

// fixedLog is one raft log: every CP op kind that touches a service, on
// services Distro also writes to.
func fixedLog() [][]naming.Op {
	a, b, c := svcKey("a"), svcKey("b"), svcKey("c")
	meta := &naming.ServiceMeta{ProtectThreshold: 0.5, Metadata: map[string]string{"team": "x"}}
	cl := &naming.ClusterConfig{Name: naming.DefaultCluster, HealthChecker: naming.HealthChecker{Type: "NONE"}}
	w := 3.0
	ops := [][]naming.Op{
		{{Kind: naming.OpCreateService, Service: a, Meta: meta}},
		{{Kind: naming.OpRegister, Service: b, Instance: inst("10.0.0.1", false)}, {Kind: naming.OpUpdateCluster, Service: a, Cluster: cl}},
		{{Kind: naming.OpCreateService, Service: c, Meta: &naming.ServiceMeta{}}},
		{{Kind: naming.OpUpdateService, Service: b, Meta: meta}},
		{{Kind: naming.OpRegister, Service: a, Instance: inst("10.0.0.2", false)}},
		{{Kind: naming.OpDeleteService, Service: c}, {Kind: naming.OpUpdateInstance, Service: a, Target: inst("10.0.0.2", false).Key(), Patch: &naming.InstancePatch{Weight: &w}}},
		{{Kind: naming.OpDeregister, Service: b, Target: inst("10.0.0.1", false).Key()}},
		{{Kind: naming.OpDeleteService, Service: b}},
		{{Kind: naming.OpCreateService, Service: c, Meta: meta}},
		{{Kind: naming.OpRegister, Service: svcKey("d"), Instance: inst("10.0.0.3", false)}},
		{{Kind: naming.OpSetHealth, Service: svcKey("d"), Target: inst("10.0.0.3", false).Key(), Healthy: false}},
	}
	t := int64(1700000000000)
	for _, e := range ops {
		for i := range e {
			t++
			e[i].Time = t
		}
	}
	return ops
}

// distroOp is a random replicated change to one of the services the log
// touches: ephemeral instances added or removed, sometimes on the key of a
// persistent one.
func distroOp(r *rand.Rand, t int64) naming.Op {
	key := svcKey(string(rune('a' + r.Intn(4))))
	ip := fmt.Sprintf("10.0.0.%d", 1+r.Intn(6))
	if r.Intn(2) == 0 {
		return naming.Op{Kind: naming.OpMergeEphemeral, Time: t, Service: key, Ephemeral: true, Removed: []naming.InstanceKey{inst(ip, true).Key()}}
	}
	if r.Intn(4) == 0 {
		return naming.Op{Kind: naming.OpReplaceEphemeral, Time: t, Service: key, Ephemeral: true, Instances: []*naming.Instance{inst(ip, true)}}
	}
	return naming.Op{Kind: naming.OpMergeEphemeral, Time: t, Service: key, Ephemeral: true, Instances: []*naming.Instance{inst(ip, true)}}
}

// snapshotBytes is what member f would write as its snapshot.
func snapshotBytes(t testing.TB, f *fsm) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := snap.Persist(&bufSink{Buffer: &buf}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPersistentStateIgnoresDistroInterleavings(t *testing.T) {
	log := fixedLog()
	entries := make([][]byte, len(log))
	for i, ops := range log {
		entries[i] = entry(t, ops...)
	}
	ref := newFSM(t)
	for i, e := range entries {
		ref.Apply(&raft.Log{Index: uint64(i + 1), Type: raft.LogCommand, Data: e})
	}
	want := snapshotBytes(t, ref)
	if !bytes.Contains(want, []byte(`"Name":"c"`)) || bytes.Contains(want, []byte(`"Name":"b"`)) {
		t.Fatalf("the reference state is not what the log says: %s", want)
	}
	for seed := int64(0); seed < 300; seed++ {
		r := rand.New(rand.NewSource(seed))
		f := newFSM(t)
		for i, e := range entries {
			for n := r.Intn(4); n > 0; n-- {
				if err := f.cat.Apply(distroOp(r, 1700000000000+int64(i))); err != nil && !errors.Is(err, naming.ErrConflict) {
					t.Fatalf("seed %d: distro op: %v", seed, err)
				}
			}
			f.Apply(&raft.Log{Index: uint64(i + 1), Type: raft.LogCommand, Data: e})
		}
		if got := snapshotBytes(t, f); !bytes.Equal(got, want) {
			t.Fatalf("seed %d: persistent state differs from the log's\n got %s\nwant %s", seed, got, want)
		}
		// Restoring the snapshot keeps what Distro holds.
		before := ephemeralCount(f.cat)
		if err := f.Restore(io.NopCloser(bytes.NewReader(want))); err != nil {
			t.Fatal(err)
		}
		if after := ephemeralCount(f.cat); after != before {
			t.Fatalf("seed %d: restore changed the ephemeral instances: %d -> %d", seed, before, after)
		}
		if got := snapshotBytes(t, f); !bytes.Equal(got, want) {
			t.Fatalf("seed %d: restore did not give the snapshot's state", seed)
		}
	}
}

func ephemeralCount(cat *naming.Catalog) int {
	n := 0
	for _, s := range cat.Services("", "") {
		for _, in := range s.Instances {
			if in.Ephemeral {
				n++
			}
		}
	}
	return n
}

// In a running cluster: a create adopts a service a follower knows from
// Distro; a delete goes through on a follower that still holds ephemeral
// instances of the service; the leader refuses to delete a service with
// ephemeral instances before anything is written.
func TestCreateAndDeleteIndependentOfDistro(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3})
	l := c.leader(10 * time.Second)
	f := c.followers(l)[0]
	_, fcat, _ := c.get(f)
	_, lcat, _ := c.get(l)
	key := svcKey("adopted")
	eph := naming.Op{Kind: naming.OpMergeEphemeral, Time: 1, Service: key, Ephemeral: true, Instances: []*naming.Instance{inst("10.9.0.1", true)}}
	if err := fcat.Apply(eph); err != nil {
		t.Fatal(err)
	}
	create := naming.Op{Kind: naming.OpCreateService, Service: key, Meta: &naming.ServiceMeta{ProtectThreshold: 0.25}}
	c.mustApply(create)
	c.converged(10*time.Second, l)
	s, _ := fcat.Service(key)
	if s == nil || s.Meta.ProtectThreshold != 0.25 || !s.Durable || len(s.Instances) != 1 {
		t.Fatalf("follower's view after create: %+v", s)
	}
	// The follower still holds the ephemeral instance; the leader does not:
	// the delete is admitted and every member drops the durable record.
	if err := c.applyAnywhere(5*time.Second, naming.Op{Kind: naming.OpDeleteService, Service: key}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	c.converged(10*time.Second, l)
	if s, ok := fcat.Service(key); !ok || s.Durable || len(s.Instances) != 1 {
		t.Fatalf("follower should keep its ephemeral instance under a record that is not durable: %+v", s)
	}
	if _, ok := lcat.Service(key); ok {
		t.Fatal("leader still has the deleted service")
	}
	// On the leader, ephemeral instances refuse the delete before it is logged.
	c.mustApply(create)
	if err := lcat.Apply(naming.Op{Kind: naming.OpMergeEphemeral, Time: 2, Service: key, Ephemeral: true, Instances: []*naming.Instance{inst("10.9.0.2", true)}}); err != nil {
		t.Fatal(err)
	}
	n, _, _ := c.get(l)
	if err := n.Apply(context.Background(), naming.Op{Kind: naming.OpDeleteService, Service: key}); !errors.Is(err, naming.ErrConflict) {
		t.Fatalf("delete with ephemeral instances on the leader: %v, want ErrConflict", err)
	}
	c.converged(10*time.Second, l)
	if s, ok := fcat.Service(key); !ok || !s.Durable {
		t.Fatal("a refused delete reached a follower")
	}
}
