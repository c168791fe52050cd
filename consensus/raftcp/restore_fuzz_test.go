package raftcp

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"sextant/naming"
)

// FuzzFSMRestore feeds arbitrary bytes to Restore, as a snapshot received
// from a leader or read from disk: it must never panic, a refused snapshot
// must leave the catalog as it was, and an accepted one must survive its
// own snapshot round trip unchanged.
func FuzzFSMRestore(f *testing.F) {
	seed := newFSM(f)
	for _, op := range []naming.Op{
		regOp(1),
		{Kind: naming.OpCreateNamespace, Namespace: &naming.Namespace{ID: "dev"}},
		{Kind: naming.OpInitAuth, User: &naming.User{Name: "nacos", Hash: "$2a$10$" + strings.Repeat("a", 53)}},
		{Kind: naming.OpAddPermission, Permission: &naming.Permission{Role: "r", Resource: "dev:*:*", Action: "rw"}},
	} {
		if err := seed.applyOp(op); err != nil {
			f.Fatal(err)
		}
	}
	snap, _ := seed.Snapshot()
	var buf bytes.Buffer
	if err := snap.Persist(&bufSink{Buffer: &buf}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"version":1,"time":5,"state":{"services":[{"key":{"Namespace":"public","Group":"DEFAULT_GROUP","Name":"a"},"instances":[null]}]}}`))
	f.Add([]byte(`{"version":1,"state":{"auth":{"users":[{"username":"x"}],"roles":[{"role":"ROLE_ADMIN"}]}}}`))
	f.Add([]byte(`{"version":1,"state":{"services":[{"key":{},"meta":{"clusters":{"":{}}}},{"key":{}}]}}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		x := newFSM(t)
		if err := x.applyOp(regOp(7)); err != nil {
			t.Fatal(err)
		}
		before := state(x.cat)
		if err := x.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
			if state(x.cat) != before {
				t.Fatal("a refused snapshot changed the catalog")
			}
			return
		}
		s, _ := x.Snapshot()
		var out bytes.Buffer
		if err := s.Persist(&bufSink{Buffer: &out}); err != nil {
			t.Fatal(err)
		}
		y := newFSM(t)
		if err := y.Restore(io.NopCloser(&out)); err != nil {
			t.Fatalf("own snapshot refused: %v", err)
		}
		if state(y.cat) != state(x.cat) {
			t.Fatal("snapshot round trip changed the catalog")
		}
	})
}
