package raftcp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/raft"

	"sextant/naming"
)

func newFSM(t testing.TB) *fsm {
	return &fsm{cat: naming.NewCatalog(), log: testLogger(t)}
}

func entry(t testing.TB, ops ...naming.Op) []byte {
	t.Helper()
	for i := range ops {
		if ops[i].Time == 0 {
			ops[i].Time = 1700000000000 + int64(i)
		}
	}
	b, err := encodeEntry(ops)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFSMAppliesEachOpWithItsOwnResult(t *testing.T) {
	f := newFSM(t)
	other := naming.ServiceKey{Namespace: naming.DefaultNamespace, Group: naming.DefaultGroup, Name: "payments"}
	create := naming.Op{Kind: naming.OpCreateService, Service: other, Meta: &naming.ServiceMeta{}}
	eph := regOp(7)
	eph.Instance.Ephemeral = true
	data := entry(t, create, regOp(1), create, eph, regOp(2))
	res, ok := f.Apply(&raft.Log{Index: 5, Type: raft.LogCommand, Data: data}).([]error)
	if !ok || len(res) != 5 {
		t.Fatalf("result %#v", res)
	}
	if res[0] != nil || res[1] != nil || res[4] != nil {
		t.Errorf("good ops failed: %v", res)
	}
	if !errors.Is(res[2], naming.ErrConflict) {
		t.Errorf("duplicate create: %v, want ErrConflict", res[2])
	}
	if !errors.Is(res[3], naming.ErrInvalid) {
		t.Errorf("ephemeral op: %v, want ErrInvalid", res[3])
	}
	if hasInstance(f.cat, 7) || !hasInstance(f.cat, 1) || !hasInstance(f.cat, 2) {
		t.Error("catalog does not match the results")
	}
	if f.entries.Load() != 1 || f.ops.Load() != 5 {
		t.Errorf("counts %d entries %d ops", f.entries.Load(), f.ops.Load())
	}
	// Entries of other types are not commands and change nothing.
	if r := f.Apply(&raft.Log{Type: raft.LogNoop, Data: data}); r != nil {
		t.Errorf("noop entry returned %v", r)
	}
}

func TestFSMSkipsUndecodableEntries(t *testing.T) {
	f := newFSM(t)
	if err := f.cat.Apply(withTime(regOp(1))); err != nil {
		t.Fatal(err)
	}
	before := state(f.cat)
	for _, data := range [][]byte{nil, {}, {0}, {2, '[', ']'}, {1}, {1, '{'}, {1, '{', '}'}, []byte("\x01[{\"kind\":\"x\"}]")} {
		r := f.Apply(&raft.Log{Type: raft.LogCommand, Data: data})
		if err, ok := r.(error); !ok || !errors.Is(err, naming.ErrInvalid) {
			t.Errorf("entry %q: result %v, want an ErrInvalid error", data, r)
		}
	}
	if state(f.cat) != before {
		t.Error("undecodable entries changed the catalog")
	}
	if f.skipped.Load() != 8 {
		t.Errorf("skipped %d, want 8", f.skipped.Load())
	}
}

func withTime(op naming.Op) naming.Op {
	op.Time = 1700000000000
	return op
}

// populated returns a catalog with something of every persistent kind and
// one ephemeral instance.
func populated(t testing.TB) *naming.Catalog {
	cat := naming.NewCatalog()
	svc := naming.ServiceKey{Namespace: "dev", Group: "g", Name: "billing"}
	eph := regOp(9)
	eph.Instance.Ephemeral = true
	for _, op := range []naming.Op{
		{Kind: naming.OpCreateNamespace, Namespace: &naming.Namespace{ID: "dev", Name: "Dev"}},
		{Kind: naming.OpCreateService, Service: svc, Meta: &naming.ServiceMeta{ProtectThreshold: 0.3, Metadata: map[string]string{"team": "x"}}},
		{Kind: naming.OpUpdateCluster, Service: svc, Cluster: &naming.ClusterConfig{Name: "DEFAULT", HealthChecker: naming.HealthChecker{Type: "HTTP", Path: "/health"}, CheckPort: 81}},
		{Kind: naming.OpRegister, Service: svc, Instance: &naming.Instance{IP: "10.1.1.1", Port: 80, Cluster: "DEFAULT", Weight: 2, Enabled: true, Metadata: map[string]string{"v": "1"}}},
		{Kind: naming.OpSetSwitch, SwitchEntry: "serverMode", SwitchValue: "CP"},
		regOp(1), regOp(2), eph,
	} {
		if err := cat.Apply(withTime(op)); err != nil {
			t.Fatalf("%s: %v", op.Kind, err)
		}
	}
	return cat
}

func TestSnapshotRoundTrip(t *testing.T) {
	src := newFSM(t)
	src.cat = populated(t)
	src.lastTime.Store(1700000000123)
	snap, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	store := raft.NewInmemSnapshotStore()
	sink, err := store.Create(raft.SnapshotVersionMax, 10, 2, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	_, rc, err := store.Open(sink.ID())
	if err != nil {
		t.Fatal(err)
	}
	// The target holds stale persistent data and an ephemeral instance of
	// its own: the first goes, the second stays.
	dst := newFSM(t)
	if err := dst.cat.Apply(withTime(regOp(50))); err != nil {
		t.Fatal(err)
	}
	own := regOp(60)
	own.Instance.Ephemeral = true
	if err := dst.cat.Apply(withTime(own)); err != nil {
		t.Fatal(err)
	}
	if err := dst.Restore(rc); err != nil {
		t.Fatal(err)
	}
	if state(dst.cat) != state(src.cat) {
		t.Errorf("restored state differs:\n got %s\nwant %s", state(dst.cat), state(src.cat))
	}
	if hasInstance(dst.cat, 50) || !hasInstance(dst.cat, 60) || hasInstance(dst.cat, 9) {
		t.Error("restore must replace persistent data and keep only the node's own ephemeral instances")
	}
	if dst.cat.Switches().ServerMode != "CP" {
		t.Error("switches not restored")
	}
	if _, ok := dst.cat.Namespace("dev"); !ok {
		t.Error("namespace not restored")
	}
	if dst.lastTime.Load() != 1700000000123 {
		t.Errorf("restore time %d", dst.lastTime.Load())
	}
}

// failingSink fails every write and records Cancel.
type failingSink struct {
	canceled, closed bool
}

func (s *failingSink) Write([]byte) (int, error) { return 0, errors.New("disk full") }
func (s *failingSink) Close() error              { s.closed = true; return nil }
func (s *failingSink) ID() string                { return "x" }
func (s *failingSink) Cancel() error             { s.canceled = true; return nil }

func TestSnapshotPersistCancelsOnError(t *testing.T) {
	f := newFSM(t)
	f.cat = populated(t)
	snap, _ := f.Snapshot()
	sink := &failingSink{}
	if err := snap.Persist(sink); err == nil {
		t.Fatal("persist on a failing sink succeeded")
	}
	if !sink.canceled || sink.closed {
		t.Errorf("sink canceled=%v closed=%v, want canceled only", sink.canceled, sink.closed)
	}
}

func TestRestoreRefusesBadSnapshots(t *testing.T) {
	for name, doc := range map[string]string{
		"garbage":         "not json",
		"unknown version": `{"version":9,"time":1,"state":{}}`,
		"empty":           "",
	} {
		f := newFSM(t)
		f.cat = populated(t)
		before := state(f.cat)
		if err := f.Restore(io.NopCloser(strings.NewReader(doc))); err == nil {
			t.Errorf("%s: restore accepted", name)
		}
		if state(f.cat) != before {
			t.Errorf("%s: failed restore changed the catalog", name)
		}
	}
	// Null instances in a snapshot are dropped, not trusted.
	f := newFSM(t)
	doc := `{"version":1,"time":5,"state":{"services":[{"key":{"Namespace":"public","Group":"DEFAULT_GROUP","Name":"a"},"instances":[null]}]}}`
	if err := f.Restore(io.NopCloser(strings.NewReader(doc))); err != nil {
		t.Fatal(err)
	}
	if s, ok := f.cat.Service(naming.ServiceKey{Namespace: "public", Group: "DEFAULT_GROUP", Name: "a"}); !ok || len(s.Instances) != 0 {
		t.Errorf("service after restore: %+v %v", s, ok)
	}
}

// FuzzFSMApply feeds arbitrary bytes to the state machine: it must never
// panic, must answer one result per decoded op, and must be deterministic
// (two catalogs given the same entries end equal).
func FuzzFSMApply(f *testing.F) {
	f.Add(entry(f, regOp(1), deregOp(1)))
	f.Add(entry(f, naming.Op{Kind: naming.OpCreateService, Service: testService, Meta: &naming.ServiceMeta{}}, naming.Op{Kind: naming.OpDeleteService, Service: testService}))
	f.Add(entry(f, naming.Op{Kind: naming.OpSetSwitch, SwitchEntry: "serverMode", SwitchValue: "AP"}))
	f.Add(entry(f, naming.Op{Kind: naming.OpCreateNamespace, Namespace: &naming.Namespace{ID: "x"}}))
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{2, '[', ']'})
	f.Add([]byte("\x01[{},{\"kind\":1},{\"kind\":3,\"service\":{\"Name\":\"a\"}},null]"))
	f.Add([]byte("\x01[{\"kind\":7,\"service\":{\"Name\":\"a\"},\"meta\":{\"protectThreshold\":2}}]"))
	f.Add([]byte("\x01[{\"kind\":14,\"service\":{\"Name\":\"a\"},\"instances\":[null]}]"))
	f.Add([]byte("\x01[{\"kind\":3,\"service\":{\"Name\":\"a\"},\"patch\":{}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := newFSM(t), newFSM(t)
		for _, x := range []*fsm{a, b} {
			for i := 0; i < 2; i++ { // twice: the second pass meets existing state
				r := x.Apply(&raft.Log{Type: raft.LogCommand, Data: data})
				if ops, err := decodeEntry(data); err == nil {
					if res, ok := r.([]error); !ok || len(res) != len(ops) {
						t.Fatalf("decoded %d ops, result %#v", len(ops), r)
					}
				} else if _, ok := r.(error); !ok {
					t.Fatalf("undecodable entry gave %#v", r)
				}
			}
		}
		if state(a.cat) != state(b.cat) {
			t.Fatal("same entries gave different catalogs")
		}
		snap, _ := a.Snapshot()
		var buf bytes.Buffer
		if err := snap.Persist(&bufSink{Buffer: &buf}); err != nil {
			t.Fatal(err)
		}
		c := newFSM(t)
		if err := c.Restore(io.NopCloser(&buf)); err != nil {
			t.Fatalf("restore of own snapshot: %v", err)
		}
		if state(c.cat) != state(a.cat) {
			t.Fatal("snapshot round trip changed the catalog")
		}
	})
}

type bufSink struct{ *bytes.Buffer }

func (bufSink) Close() error  { return nil }
func (bufSink) ID() string    { return "buf" }
func (bufSink) Cancel() error { return nil }
