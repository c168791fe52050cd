package distro

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"sextant/consensus/cluster"
	"sextant/consensus/nodeauth"
	"sextant/naming"
)

type httpNode struct {
	addr string
	cat  *naming.Catalog
	mem  *cluster.Membership
	eng  *Engine
	srv  *http.Server
}

// startHTTPCluster runs n nodes over real HTTP on 127.0.0.1.
func startHTTPCluster(t testing.TB, n int, secret string) []*httpNode {
	return startHTTPClusterWith(t, n, secret, testConfig(), 64<<10)
}

// startHTTPClusterWith runs n nodes with the engine configuration cfg,
// whose handlers accept bodies up to maxBody bytes.
func startHTTPClusterWith(t testing.TB, n int, secret string, cfg Config, maxBody int64) []*httpNode {
	t.Helper()
	var ls []net.Listener
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		addrs = append(addrs, l.Addr().String())
	}
	chc := cluster.DefaultHTTPConfig()
	chc.Secret = secret
	dhc := DefaultHTTPConfig()
	dhc.Secret = secret
	dhc.MaxBody = maxBody
	log := testLog(t)
	var nodes []*httpNode
	for i, a := range addrs {
		rep, err := cluster.NewHTTPTransport(chc, nil)
		if err != nil {
			t.Fatal(err)
		}
		cc := clusterConfig()
		cc.Self, cc.Members = a, addrs
		cc.ReportTimeout = 500 * time.Millisecond
		m, err := cluster.New(cc, rep, log)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewHTTPTransport(dhc, a, nil)
		if err != nil {
			t.Fatal(err)
		}
		cat := naming.NewCatalog()
		e, err := New(cfg, cat, m, tr, log)
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/sextant/v1/", NewNodeHandler(e, m, chc, dhc))
		srv := &http.Server{Handler: mux}
		go srv.Serve(ls[i])
		nodes = append(nodes, &httpNode{addr: a, cat: cat, mem: m, eng: e, srv: srv})
	}
	t.Cleanup(func() {
		for _, nd := range nodes {
			nd.srv.Close()
			nd.eng.Close()
			nd.mem.Close()
		}
	})
	for _, nd := range nodes {
		if err := nd.mem.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, nd := range nodes {
		if err := nd.eng.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := nd.eng.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(addrs)
	waitFor(t, 5*time.Second, func() bool {
		for _, nd := range nodes {
			if !slices.Equal(nd.mem.Live(), addrs) {
				return false
			}
		}
		return true
	})
	return nodes
}

func TestHTTPTransport(t *testing.T) {
	nodes := startHTTPCluster(t, 3, "s3cret")
	live := nodes[0].mem.Live()
	a := nodes[0]
	var owner *httpNode
	k := keyOwnedBy(t, nodes[1].addr, live, "http")
	for _, nd := range nodes {
		if nd.addr == Owner(k, live) {
			owner = nd
		}
	}
	op := registerOp(k, "10.1.0.1", 80)
	op.Instance.Metadata = map[string]string{"zone": "a", "ünïcode": "✓"}
	if err := a.eng.Apply(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	if got := ips(owner.cat, k); !slices.Equal(got, []string{"10.1.0.1:80"}) {
		t.Fatalf("owner holds %v", got)
	}
	waitFor(t, 3*time.Second, func() bool {
		for _, nd := range nodes {
			s, ok := nd.cat.Service(k)
			if !ok || len(s.Instances) != 1 || s.Instances[0].Metadata["ünïcode"] != "✓" {
				return false
			}
		}
		return true
	})
	// The owner's answer crosses the wire with its kind.
	err := a.eng.Apply(context.Background(), naming.Op{Kind: naming.OpUpdateInstance, Service: k, Ephemeral: true,
		Target: naming.InstanceKey{IP: "10.9.9.9", Port: 1, Cluster: naming.DefaultCluster}, Patch: &naming.InstancePatch{}})
	if !errors.Is(err, naming.ErrNotFound) {
		t.Fatalf("update of a missing instance: %v", err)
	}

	post := func(path, secret, hash string, body []byte) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, "http://"+owner.addr+path, bytes.NewReader(body))
		req.Header.Set(cluster.FromHeader, a.addr)
		if hash != "" {
			req.Header.Set(cluster.HashHeader, hash)
		}
		nodeauth.Sign(req, secret, body, time.Now())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	hash := cluster.FormatHash(a.mem.Hash())
	body, _ := json.Marshal(registerOp(k, "10.1.0.2", 80))
	if r := post(ForwardPath, "", hash, body); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("no secret: HTTP %d", r.StatusCode)
	}
	if r := post(ForwardPath, "wrong", hash, body); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong secret: HTTP %d", r.StatusCode)
	}
	// The secret in clear (as nodes once sent it) is no signature.
	req, _ := http.NewRequest(http.MethodGet, "http://"+owner.addr+SnapshotPath, nil)
	req.Header.Set("X-Sextant-Secret", "s3cret")
	req.Header.Set(cluster.FromHeader, a.addr)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != http.StatusUnauthorized {
		t.Errorf("snapshot with the secret in clear: %v %v", r, err)
	} else {
		r.Body.Close()
	}
	if r := post(ForwardPath, "s3cret", "", body); r.StatusCode != http.StatusBadRequest {
		t.Errorf("no hash: HTTP %d", r.StatusCode)
	}
	if r := post(ForwardPath, "s3cret", cluster.FormatHash(a.mem.Hash()+1), body); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("other view: HTTP %d", r.StatusCode)
	}
	if r := post(ForwardPath, "s3cret", hash, []byte("{")); r.StatusCode != http.StatusBadRequest {
		t.Errorf("bad body: HTTP %d", r.StatusCode)
	}
	big := []byte(`{"records":[` + strings.Repeat(`{"key":{}},`, 10000) + `{}]}`)
	if r := post(SyncPath, "s3cret", hash, big); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("large body: HTTP %d", r.StatusCode)
	}
	if got := ips(owner.cat, k); len(got) != 1 {
		t.Fatalf("refused requests changed data: %v", got)
	}
	// Snapshots and fetches work over HTTP too.
	tr, _ := NewHTTPTransport(DefaultHTTPConfig(), a.addr, nil)
	if _, err := tr.Snapshot(context.Background(), owner.addr); err == nil {
		t.Error("snapshot without the secret accepted")
	}
	hc := DefaultHTTPConfig()
	hc.Secret = "s3cret"
	tr, _ = NewHTTPTransport(hc, a.addr, nil)
	recs, err := tr.Snapshot(context.Background(), owner.addr)
	if err != nil || len(recs) != 1 || recs[0].Key != k {
		t.Fatalf("snapshot: %v %v", recs, err)
	}
	recs, err = tr.Fetch(context.Background(), owner.addr, a.mem.Hash(), []naming.ServiceKey{k, svc("none")})
	if err != nil || len(recs) != 2 || len(recs[0].Instances) != 1 || !recs[1].Empty() {
		t.Fatalf("fetch: %v %v", recs, err)
	}
	// A closed port is reported as refused.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	if err := tr.Sync(context.Background(), closed, 1, nil); !errors.Is(err, cluster.ErrRefused) {
		t.Fatalf("sync to a closed port: %v", err)
	}
}

func TestWireErrors(t *testing.T) {
	for _, kind := range []error{naming.ErrInvalid, naming.ErrNotFound, naming.ErrConflict, naming.ErrForbidden, naming.ErrUnavailable, naming.ErrTooLarge} {
		in := naming.Errorf(kind, "boom %s", kind)
		_, b := encodeError(in)
		out := decodeError(b)
		var ne *naming.Error
		if !errors.Is(out, kind) || !errors.As(out, &ne) || ne.Msg != in.Msg {
			t.Errorf("%v came back as %v", kind, out)
		}
	}
	_, b := encodeError(&loadingError{msg: "busy"})
	if out := decodeError(b); !errors.Is(out, ErrLoading) || !errors.Is(out, naming.ErrUnavailable) {
		t.Errorf("loading came back as %v", out)
	}
	status, b := encodeError(fmt.Errorf("plain"))
	if status != http.StatusInternalServerError || errors.Is(decodeError(b), naming.ErrUnavailable) {
		t.Errorf("plain error: %d %v", status, b)
	}
}
