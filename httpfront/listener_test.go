package httpfront

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sextant/naming"
)

// TestEveryTestOverTheWire runs this package's tests again with every
// request sent over a socket to the started front (SEXTANT_HTTPFRONT_WIRE):
// through fasthttp, the native hot routes and the adaptor to gin, as a
// node serves. The tests that drive the handler directly run too, and
// must pass either way.
func TestEveryTestOverTheWire(t *testing.T) {
	if os.Getenv(wireEnvVar) != "" {
		t.Skip("already over the wire")
	}
	if testing.Short() {
		t.Skip("-short: the package's tests run once, through the handler")
	}
	cmd := exec.Command(os.Args[0], "-test.count=1", "-test.timeout=5m", "-test.skip=^(TestEveryTestOverTheWire|Fuzz.*)$")
	cmd.Env = append(os.Environ(), wireEnvVar+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the package's tests over the wire failed: %v\n%s", err, tail(string(out), 60))
	}
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestWireKeepsNoBufferAliases registers through both kinds of route
// (native and through gin), then sends other requests that reuse the
// server's buffers: the names the catalog keeps must not change.
func TestWireKeepsNoBufferAliases(t *testing.T) {
	e := newWireEnv(t)
	// One connection, so one fasthttp context and its buffers; the
	// parameters are in the query, the request line being what fasthttp
	// keeps in buffers it reuses; the later requests are shorter, so they
	// are written over the same bytes.
	send := func(conn net.Conn, br *bufio.Reader, status int, method, target string) {
		t.Helper()
		if _, err := fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", method, target); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Fatalf("%s %s: %d %s, want %d", method, target, resp.StatusCode, b, status)
		}
	}
	pad := "&pad=" + strings.Repeat("p", 200)
	junk := strings.Repeat("z", 40)
	// A native route (register), then a gin route (update), each on its
	// own connection followed by shorter requests of the same route.
	for _, r := range []struct{ method, first string }{
		{"POST", "/nacos/v1/ns/instance?serviceName=alpha-service&groupName=G1&ip=10.0.0.1&port=80&clusterName=C1" + pad},
		{"PUT", "/nacos/v1/ns/instance?serviceName=beta-service&groupName=G2&ip=10.0.0.2&port=80&clusterName=C2&metadata=k%3Dv" + pad},
	} {
		conn, err := net.Dial("tcp", e.s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		send(conn, br, 200, r.method, r.first)
		for i := 0; i < 3; i++ {
			send(conn, br, 400, r.method, "/nacos/v1/ns/instance?serviceName="+junk+"&ip=bad&port=1")
		}
		conn.Close()
	}
	// What the writer was handed, which a node keeps after the answer
	// (queued for replication), must still read as sent.
	e.w.mu.Lock()
	ops := append([]naming.Op(nil), e.w.ops...)
	e.w.mu.Unlock()
	if len(ops) != 2 {
		t.Fatalf("writer got %d ops, want 2", len(ops))
	}
	for i, want := range []struct {
		key         naming.ServiceKey
		ip, cluster string
	}{
		{naming.NewServiceKey("", "G1", "alpha-service"), "10.0.0.1", "C1"},
		{naming.NewServiceKey("", "G2", "beta-service"), "10.0.0.2", "C2"},
	} {
		op := ops[i]
		ip, cluster := op.Target.IP, op.Target.Cluster
		if op.Instance != nil {
			ip, cluster = op.Instance.IP, op.Instance.Cluster
		}
		if op.Service != want.key || ip != want.ip || cluster != want.cluster {
			t.Errorf("op %d changed after later requests: %s %s %s, want %s %s %s", i, op.Service, ip, cluster, want.key, want.ip, want.cluster)
		}
	}
}

// TestWireRefusesOversizedRequests: a body over MaxBodyBytes gets 413 with
// parse's message, a request line and headers over 16 KiB get 431, and
// the server keeps serving.
func TestWireRefusesOversizedRequests(t *testing.T) {
	e := newWireEnv(t, func(c *Config) { c.MaxBodyBytes = 4096 })
	rec := e.req("POST", "/nacos/v1/ns/instance", "serviceName=demo&ip=10.0.0.1&port=80&metadata="+strings.Repeat("a", 5000))
	if rec.Code != http.StatusRequestEntityTooLarge || rec.Body.String() != "request body is larger than 4096 bytes" {
		t.Fatalf("oversized body: %d %q", rec.Code, rec.Body.String())
	}
	rec = e.req("GET", "/nacos/v1/ns/instance/list?serviceName=demo&x="+strings.Repeat("a", 17<<10), "")
	if rec.Code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized request line: %d %q", rec.Code, rec.Body.String())
	}
	if e.service(demo) != nil {
		t.Fatal("a refused request changed the catalog")
	}
	e.must(200, "POST", "/nacos/v1/ns/instance", "serviceName=demo&ip=10.0.0.1&port=80")
}

// TestWireRecoversAsGin: a panic after the answer was made (here in the
// Observe hook) leaves the answer as it is; a panic before it (in the
// writer) answers 500. Either way the request is served once (one
// Observe call, one write), nothing stays in flight, and the server goes
// on serving.
func TestWireRecovers(t *testing.T) {
	var observed atomic.Int64
	e := newWireEnv(t, func(c *Config) {
		c.Observe = func(route, _ string, _ int, _ time.Duration) {
			observed.Add(1)
			if route == listRoute {
				panic("observer broke")
			}
		}
	})
	e.register(demo, healthyInstance("10.0.0.1", 80))
	rec := e.must(200, "GET", "/nacos/v1/ns/instance/list?serviceName=demo", "")
	if b := rec.Body.String(); !strings.Contains(b, "10.0.0.1") || strings.Count(b, `"name"`) != 1 {
		t.Fatalf("list after a panicking hook: %q", b)
	}
	if n := observed.Load(); n != 1 {
		t.Fatalf("one list observed %d times", n)
	}
	pw := &panickingWriter{}
	e.s.w = pw
	rec = e.must(500, "PUT", "/nacos/v1/ns/instance/beat", "serviceName=demo&ip=10.0.0.1&port=80")
	if rec.Body.String() != "caused: internal error;" {
		t.Fatalf("beat with a panicking writer: %q", rec.Body.String())
	}
	if n := pw.calls.Load(); n != 1 {
		t.Fatalf("one beat reached the writer %d times", n)
	}
	e.must(200, "GET", "/nacos/v1/console/health/liveness", "")
	if n := e.s.InFlight(); n != 0 {
		t.Fatalf("%d in flight after the panics", n)
	}
}

// panickingWriter counts its calls and panics on each.
type panickingWriter struct {
	Writer
	calls atomic.Int64
}

func (w *panickingWriter) Apply(context.Context, naming.Op) error {
	w.calls.Add(1)
	panic("writer broke")
}

// TestWireBodyBoundsByPath: the internal node-to-node paths take bodies up
// to InternalMaxBodyBytes (Distro records of large services) once their
// signature headers pass, and MaxBodyBytes without, before the body is
// read; the Nacos API keeps MaxBodyBytes.
func TestWireBodyBoundsByPath(t *testing.T) {
	e := newWireEnv(t, func(c *Config) {
		c.MaxBodyBytes = 4096
		c.InternalMaxBodyBytes = 64 << 10
		c.InternalSigned = func(method, uri string, h func(string) string) bool {
			return method == "POST" && uri == InternalPrefix+"/v1/distro/sync" && h("X-Test-Sig") == "good"
		}
		c.Internal = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "%d", len(b))
		})
	})
	big := strings.Repeat("a", 32<<10)
	rec := e.req("POST", InternalPrefix+"/v1/distro/sync", big, "X-Test-Sig", "good")
	if rec.Code != 200 || rec.Body.String() != strconv.Itoa(len(big)) {
		t.Fatalf("signed internal request with a 32 KiB body: %d %q", rec.Code, rec.Body.String())
	}
	if rec = e.req("POST", InternalPrefix+"/v1/distro/sync", big+big+big, "X-Test-Sig", "good"); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("signed internal request over its bound: %d", rec.Code)
	}
	for _, sig := range []string{"", "bad"} {
		if rec = e.req("POST", InternalPrefix+"/v1/distro/sync", big, "X-Test-Sig", sig); rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("internal request signed %q with a 32 KiB body: %d, want 413", sig, rec.Code)
		}
	}
	for _, target := range []string{"/nacos/v1/ns/instance", "/nacos/v1/ns/service"} {
		if rec = e.req("POST", target, "serviceName=demo&x="+big); rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s with a 32 KiB body: %d %q", target, rec.Code, rec.Body.String())
		}
	}
}

// TestReusedRequestsLeaveNothingOfTheLast: the listener reuses its
// requests; on one connection, a request without credentials or body
// after one with them is judged on its own: refused without the token the
// last one carried, and without the parameters the last one's body held.
func TestReusedRequestsLeaveNothingOfTheLast(t *testing.T) {
	e := newAuthEnv(t, true)
	e.start()
	tok := e.login("nacos", "admin-pass-1")
	conn, err := net.Dial("tcp", e.s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	send := func(method, target, body string, hdr ...string) int {
		t.Helper()
		req := method + " " + target + " HTTP/1.1\r\nHost: x\r\n"
		for i := 0; i+1 < len(hdr); i += 2 {
			req += hdr[i] + ": " + hdr[i+1] + "\r\n"
		}
		if body != "" {
			req += "Content-Type: " + formCT + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n"
		}
		if _, err := io.WriteString(conn, req+"\r\n"+body); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	bearer := []string{"Authorization", "Bearer " + tok}
	for i := 0; i < 3; i++ {
		if c := send("GET", "/nacos/v1/ns/instance/list?serviceName=demo", "", bearer...); c != 200 {
			t.Fatalf("list with the token: %d", c)
		}
		if c := send("GET", "/nacos/v1/ns/instance/list?serviceName=demo", ""); c != 403 {
			t.Fatalf("list without a token after one with it: %d", c)
		}
		if c := send("POST", "/nacos/v1/ns/instance?accessToken="+url.QueryEscape(tok), "serviceName=demo&ip=10.0.0.1&port=80"); c != 200 {
			t.Fatalf("register: %d", c)
		}
		if c := send("POST", "/nacos/v1/ns/instance?accessToken="+url.QueryEscape(tok), ""); c != 400 {
			t.Fatalf("register without parameters after one with them: %d", c)
		}
	}
}
