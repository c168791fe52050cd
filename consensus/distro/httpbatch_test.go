package distro

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"sextant/naming"
)

// singleHandler is a peer of an older version: it applies forwarded
// writes one per message and knows no batch path.
type singleHandler struct {
	Handler
	mu  sync.Mutex
	ops []naming.Op
}

func (s *singleHandler) OnForward(_ context.Context, _ string, _ uint64, op naming.Op) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op.Kind != naming.OpRegister {
		return naming.Errorf(naming.ErrNotFound, "instance not found")
	}
	s.ops = append(s.ops, op)
	return nil
}

func TestForwardBatchFallsBackToSingleWrites(t *testing.T) {
	h := &singleHandler{}
	full := NewHTTPHandler(h, DefaultHTTPConfig())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == BatchPath {
			http.NotFound(w, r)
			return
		}
		full.ServeHTTP(w, r)
	}))
	defer srv.Close()
	peer := strings.TrimPrefix(srv.URL, "http://")
	tr, err := NewHTTPTransport(DefaultHTTPConfig(), "10.0.0.1:8848", nil)
	if err != nil {
		t.Fatal(err)
	}
	k := svc("old")
	ops := []naming.Op{registerOp(k, "10.1.0.1", 80), deregisterOp(k, "10.1.0.2", 80), registerOp(k, "10.1.0.3", 80)}
	errs, err := tr.ForwardBatch(context.Background(), peer, 1, ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 3 || errs[0] != nil || !errors.Is(errs[1], naming.ErrNotFound) || errs[2] != nil {
		t.Fatalf("answers %v", errs)
	}
	if len(h.ops) != 2 {
		t.Fatalf("the peer applied %d writes, want 2", len(h.ops))
	}
}

func TestForwardBatchOverHTTP(t *testing.T) {
	nodes := startHTTPCluster(t, 3, "s3cret")
	live := nodes[0].mem.Live()
	k := keyOwnedBy(t, nodes[1].addr, live, "hb")
	hc := DefaultHTTPConfig()
	hc.Secret = "s3cret"
	tr, _ := NewHTTPTransport(hc, nodes[0].addr, nil)
	ops := []naming.Op{
		registerOp(k, "10.1.0.1", 80),
		{Kind: naming.OpSetHealth, Service: k, Ephemeral: true, Target: naming.InstanceKey{IP: "10.9.9.9", Port: 1, Cluster: naming.DefaultCluster}},
		{Kind: naming.OpCreateService, Service: k, Meta: &naming.ServiceMeta{}},
		registerOp(k, "10.1.0.2", 80),
	}
	errs, err := tr.ForwardBatch(context.Background(), nodes[1].addr, nodes[0].mem.Hash(), ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 4 || errs[0] != nil || !errors.Is(errs[1], naming.ErrNotFound) || !errors.Is(errs[2], naming.ErrInvalid) || errs[3] != nil {
		t.Fatalf("answers %v", errs)
	}
	if got := ips(nodes[1].cat, k); len(got) != 2 {
		t.Fatalf("owner holds %v", got)
	}
	// A message built on another member view is refused whole.
	if _, err := tr.ForwardBatch(context.Background(), nodes[1].addr, nodes[0].mem.Hash()+1, ops[3:]); !errors.Is(err, naming.ErrUnavailable) {
		t.Fatalf("other view: %v", err)
	}
	// A node that is not responsible refuses each write instead of passing it on.
	errs, err = tr.ForwardBatch(context.Background(), nodes[2].addr, nodes[0].mem.Hash(), []naming.Op{registerOp(k, "10.1.0.3", 80)})
	if err != nil || len(errs) != 1 || !errors.Is(errs[0], naming.ErrUnavailable) {
		t.Fatalf("forward to a non-owner: %v %v", errs, err)
	}
	if st := nodes[2].eng.Stats(); st.Forwards != 0 {
		t.Fatalf("the non-owner forwarded again: %+v", st)
	}
}

// A peer of the previous version reads compact sync records of version 1
// only; it gets version 2 as JSON, and ignores the beat marks.
func TestSyncFallsBackToJSONForAnOlderReader(t *testing.T) {
	var mu sync.Mutex
	var got []Record
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == CompactSyncPath {
			fail(w, naming.Errorf(naming.ErrInvalid, "bad request body: %s", errUnknownVersion)) // as the old reader answers
			return
		}
		var b syncBody
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			t.Error(err)
		}
		mu.Lock()
		got = append(got, b.Records...)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	tr, err := NewHTTPTransport(DefaultHTTPConfig(), "10.0.0.1:8848", nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{Key: svc("old-reader"), Instances: []*naming.Instance{inst("10.1.0.1", 80, 5)},
		Beats: []BeatMark{{Instance: naming.InstanceKey{IP: "10.1.0.1", Port: 80, Cluster: naming.DefaultCluster}, Time: 9}}}
	if err := tr.Sync(context.Background(), strings.TrimPrefix(srv.URL, "http://"), 1, []Record{rec}); err != nil {
		t.Fatalf("sync to an older reader: %v", err)
	}
	if len(got) != 1 || len(got[0].Instances) != 1 {
		t.Fatalf("the older reader got %+v", got)
	}
}
