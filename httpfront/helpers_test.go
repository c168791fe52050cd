package httpfront

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// TestMain puts gin in test mode, a process-wide setting, once for the
// package's tests so it prints no debug route lines.
func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

const (
	goUA   = "Nacos-Go-Client:v1.1.4"
	javaUA = "Nacos-Java-Client:v1.4.1"
	nodeUA = "Nacos-Java-Client:v1.0.0"
	formCT = "application/x-www-form-urlencoded;charset=utf-8"
)

// testWriter stamps the time and applies ops to the catalog, as a lone node does.
type testWriter struct {
	cat   *naming.Catalog
	mu    sync.Mutex
	ops   []naming.Op
	err   error // when set, Apply fails with it
	quiet bool  // when set, ops are not recorded (benchmarks)
}

func (w *testWriter) Apply(ctx context.Context, op naming.Op) error {
	w.mu.Lock()
	if !w.quiet {
		w.ops = append(w.ops, op)
	}
	err := w.err
	w.mu.Unlock()
	if err != nil {
		return err
	}
	if op.Time == 0 {
		op.Time = time.Now().UnixMilli()
	}
	if op.Kind == naming.OpDeleteService {
		// Admission's check, as the writers make it before ordering the op.
		if err := w.cat.CanDeleteService(op.Service); err != nil {
			return err
		}
	}
	return w.cat.Apply(op)
}

func (w *testWriter) Owns(naming.ServiceKey) bool { return true }

func (w *testWriter) lastOp() naming.Op {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ops[len(w.ops)-1]
}

// fakeCluster is a Cluster with settable answers.
type fakeCluster struct {
	mu      sync.Mutex
	members []naming.Member
	ready   error
	leader  string
}

func (f *fakeCluster) Members() []naming.Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]naming.Member(nil), f.members...)
}

func (f *fakeCluster) Ready() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready
}

func (f *fakeCluster) Leader() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leader
}

func (f *fakeCluster) Owner(naming.ServiceKey) string { return "" }

func (f *fakeCluster) Reads() LeaderReads { return nil }

func (f *fakeCluster) setReady(err error) {
	f.mu.Lock()
	f.ready = err
	f.mu.Unlock()
}

// env is a front over a real catalog.
type env struct {
	t   testing.TB
	s   *Server
	h   http.Handler
	cat *naming.Catalog
	w   *testWriter
	cl  *fakeCluster
	// wire, when set, is a client of the started front: req sends over
	// the socket, through the fasthttp server (listener.go), instead of
	// calling h.
	wire *http.Client
}

func quietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

func newEnv(t testing.TB, mutate ...func(*Config)) *env {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Push.Listen = "127.0.0.1:0"
	cfg.Push.Target = "source"
	for _, m := range mutate {
		m(&cfg)
	}
	cat := naming.NewCatalog()
	w := &testWriter{cat: cat}
	cl := &fakeCluster{
		members: []naming.Member{
			{Address: "10.0.0.5:8848", State: naming.MemberUp, Self: true, RaftRole: "Leader", LastSeen: 1700000000000},
			{Address: "10.0.0.6:8848", State: naming.MemberDown, RaftRole: "Follower", FailCount: 3},
		},
		leader: "10.0.0.5:8848",
	}
	s, err := New(cfg, cat, w, cl, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := &env{t: t, s: s, h: s.Handler(), cat: cat, w: w, cl: cl}
	if os.Getenv(wireEnvVar) != "" {
		e.start()
	}
	return e
}

// wireEnvVar, when set, makes every env send its requests over the wire.
const wireEnvVar = "SEXTANT_HTTPFRONT_WIRE"

// req sends one request; body, when set, is a form body. hdr holds
// header pairs.
func (e *env) req(method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("Content-Type", formCT)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	if e.wire != nil {
		e.overWire(rec, r)
		return rec
	}
	e.h.ServeHTTP(rec, r)
	return rec
}

// newWireEnv is newEnv with the front started, its requests sent over
// the socket.
func newWireEnv(t testing.TB, mutate ...func(*Config)) *env {
	t.Helper()
	e := newEnv(t, mutate...)
	e.start()
	return e
}

// start starts the front, once, and sends the requests over the socket
// from then on.
func (e *env) start() {
	e.t.Helper()
	if e.wire != nil {
		return
	}
	if err := e.s.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.wire = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e.t.Cleanup(e.wire.CloseIdleConnections)
}

// overWire sends r to the started front and records the response.
func (e *env) overWire(rec *httptest.ResponseRecorder, r *http.Request) {
	e.t.Helper()
	out := r.Clone(context.Background())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host, out.Host = "http", e.s.Addr(), e.s.Addr()
	resp, err := e.wire.Do(out)
	if err != nil {
		e.t.Fatalf("%s %s over the wire: %v", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		rec.Header()[k] = vs
	}
	rec.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(rec, resp.Body); err != nil {
		e.t.Fatalf("%s %s: reading the answer: %v", r.Method, r.URL, err)
	}
}

// must sends a request and requires the status.
func (e *env) must(status int, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	rec := e.req(method, target, body, hdr...)
	if rec.Code != status {
		e.t.Fatalf("%s %s: status %d, want %d; body %q", method, target, rec.Code, status, rec.Body.String())
	}
	return rec
}

// json decodes a response body into a map.
func decode(t testing.TB, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %q", err, rec.Body.String())
	}
	return m
}

// register adds an instance directly through the catalog.
func (e *env) register(key naming.ServiceKey, in naming.Instance) {
	e.t.Helper()
	if in.Cluster == "" {
		in.Cluster = naming.DefaultCluster
	}
	if err := e.cat.Apply(naming.Op{Kind: naming.OpRegister, Time: time.Now().UnixMilli(), Service: key, Instance: &in}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) service(key naming.ServiceKey) *naming.Service {
	svc, _ := e.cat.Service(key)
	return svc
}

var demo = naming.NewServiceKey("", "", "demo")

func healthyInstance(ip string, port int) naming.Instance {
	return naming.Instance{IP: ip, Port: port, Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var errBoom = errors.New("boom")

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func httpRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}
