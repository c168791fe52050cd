package grpcfront

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"sextant/naming"
)

// testWriter stamps the time and applies ops to the catalog, as a lone node does.
type testWriter struct {
	cat *naming.Catalog
	mu  sync.Mutex
	ops []naming.Op
	// gate, when set, holds every Apply until it is closed.
	gate chan struct{}
}

func (w *testWriter) Apply(_ context.Context, op naming.Op) error {
	if w.gate != nil {
		<-w.gate
	}
	if op.Time == 0 {
		op.Time = time.Now().UnixMilli()
	}
	w.mu.Lock()
	w.ops = append(w.ops, op)
	w.mu.Unlock()
	return w.cat.Apply(op)
}

func (w *testWriter) Owns(naming.ServiceKey) bool { return true }

// kinds counts the ops applied, by kind.
func (w *testWriter) kinds() map[naming.OpKind]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := map[naming.OpKind]int{}
	for _, op := range w.ops {
		m[op.Kind]++
	}
	return m
}

// testStatus is a Status with a settable answer.
type testStatus struct {
	mu  sync.Mutex
	err error
}

func (s *testStatus) Ready() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *testStatus) set(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

type fixture struct {
	srv *Server
	cat *naming.Catalog
	w   *testWriter
	st  *testStatus
}

// start runs a front on a loopback port over a fresh catalog.
func start(t *testing.T, edit func(*Config), access Access) *fixture {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DrainTimeout = 500 * time.Millisecond
	if edit != nil {
		edit(&cfg)
	}
	f := &fixture{cat: naming.NewCatalog(), st: &testStatus{}}
	f.w = &testWriter{cat: f.cat}
	srv, err := New(cfg, f.cat, f.w, f.st, access, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	f.srv = srv
	return f
}

func (f *fixture) port() int { return f.srv.Addr().(*net.TCPAddr).Port }

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// instances returns the instances the catalog holds for a service.
func (f *fixture) instances(ns, group, name string) []*naming.Instance {
	svc, ok := f.cat.Service(naming.NewServiceKey(ns, group, name))
	if !ok {
		return nil
	}
	return svc.Instances
}

// rawClient speaks the protocol by hand, as the Java client does.
type rawClient struct {
	t    *testing.T
	cc   *grpc.ClientConn
	bi   grpc.ClientStream
	id   string
	recv chan *Payload
}

func dialRaw(t *testing.T, port int) *rawClient {
	t.Helper()
	cc, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(port),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(Codec{})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return &rawClient{t: t, cc: cc, recv: make(chan *Payload, 64)}
}

// call sends one unary request with a JSON body.
func (c *rawClient) call(typ string, body any, headers map[string]string) *Payload {
	c.t.Helper()
	b, ok := body.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(body); err != nil {
			c.t.Fatal(err)
		}
	}
	var out Payload
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.cc.Invoke(ctx, "/Request/request", &Payload{Type: typ, ClientIP: "127.0.0.1", Headers: headers, Body: b}, &out); err != nil {
		c.t.Fatalf("%s: %v", typ, err)
	}
	return &out
}

// connect does what a Java 2.3 client does: ServerCheckRequest, then the
// bi-stream with ConnectionSetupRequest carrying abilityTable.
func (c *rawClient) connect() {
	c.t.Helper()
	p := c.call(typeServerCheck, map[string]any{"module": "internal"}, nil)
	if p.Type != typeServerCheckResp {
		c.t.Fatalf("ServerCheckRequest answered %s %s", p.Type, p.Body)
	}
	var r serverCheckResponse
	if err := json.Unmarshal(p.Body, &r); err != nil || r.ConnectionID == "" {
		c.t.Fatalf("ServerCheckResponse %s: %v", p.Body, err)
	}
	c.id = r.ConnectionID
	st, err := c.cc.NewStream(context.Background(), &grpc.StreamDesc{ServerStreams: true, ClientStreams: true},
		"/BiRequestStream/requestBiStream")
	if err != nil {
		c.t.Fatal(err)
	}
	c.bi = st
	setup := []byte(`{"clientVersion":"Nacos-Java-Client:v2.3.2","abilityTable":{"supportPersistentInstanceByGrpc":true},` +
		`"labels":{"source":"sdk","module":"naming","AppName":"unknown"},"tenant":"","module":"internal"}`)
	if err := st.SendMsg(&Payload{Type: typeConnectionSetup, Body: setup}); err != nil {
		c.t.Fatal(err)
	}
	go func() {
		for {
			var p Payload
			if err := st.RecvMsg(&p); err != nil {
				close(c.recv)
				return
			}
			c.recv <- &p
		}
	}()
}

// next returns the next server request on the stream.
func (c *rawClient) next(d time.Duration) (*Payload, error) {
	select {
	case p, ok := <-c.recv:
		if !ok {
			return nil, errors.New("stream ended")
		}
		return p, nil
	case <-time.After(d):
		return nil, errors.New("nothing arrived")
	}
}

// decodeResp reads an answer's common fields.
func decodeResp(t *testing.T, p *Payload) response {
	t.Helper()
	var r response
	if err := json.Unmarshal(p.Body, &r); err != nil {
		t.Fatalf("answer %s %q: %v", p.Type, p.Body, err)
	}
	return r
}
