package consensus

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sextant/naming"
)

// acceptCounter counts the connections its listener accepted.
type acceptCounter struct {
	net.Listener
	n atomic.Int32
}

func (l *acceptCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// startCountingLeader serves h and counts the connections it accepted.
func startCountingLeader(t *testing.T, h http.Handler) (*httptest.Server, string, *atomic.Int32) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	l := &acceptCounter{Listener: srv.Listener}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, strings.TrimPrefix(srv.URL, "http://"), &l.n
}

// Forwards one after another share one kept connection; when the leader
// closes it while idle (a restart, its idle timeout), the next forward
// takes a new one instead of failing.
func TestForwardKeepsConnectionsAndDropsClosedOnes(t *testing.T) {
	cp := newFakeCP()
	srv, addr, conns := startCountingLeader(t, CPApplyHandler(cp, ""))
	f := NewHTTPForwarder("", 5*time.Second)
	for i := 0; i < 20; i++ {
		if err := f.ForwardCP(context.Background(), addr, register(svcA, "10.0.5.1", false)); err != nil {
			t.Fatalf("forward %d: %v", i, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("20 forwards in turn opened %d connections, want 1", n)
	}
	srv.CloseClientConnections()
	for i := 0; i < 3; i++ {
		if err := f.ForwardCP(context.Background(), addr, register(svcA, "10.0.5.2", false)); err != nil {
			t.Fatalf("forward after the leader closed the connection: %v", err)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections after one was closed, want 2", n)
	}
	if cp.count("10.0.5.1") != 20 || cp.count("10.0.5.2") != 3 {
		t.Fatalf("applied %v", cp.applied)
	}
}

// A leader that takes the request and never answers: the forward ends with
// its caller's deadline and says the write may or may not be done; the
// connection is not used again.
func TestForwardToSilentLeaderEndsWithItsDeadline(t *testing.T) {
	cp := newFakeCP()
	release := make(chan struct{})
	defer close(release)
	var seen atomic.Int32
	apply := CPApplyHandler(cp, "")
	_, addr, conns := startCountingLeader(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) == 1 {
			<-release // the first request is never answered in time
			return
		}
		apply.ServeHTTP(w, r)
	}))
	f := NewHTTPForwarder("", 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := f.ForwardCP(ctx, addr, register(svcA, "10.0.6.1", false))
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("forward took %v past a 300ms deadline", took)
	}
	if !errors.Is(err, naming.ErrUnavailable) || !strings.Contains(err.Error(), "may or may not") {
		t.Fatalf("got %v, want unavailable, may or may not be done", err)
	}
	if err := f.ForwardCP(context.Background(), addr, register(svcA, "10.0.6.2", false)); err != nil {
		t.Fatalf("forward after a timed-out one: %v", err)
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2: the timed-out one must not be reused", n)
	}
}

// BenchmarkForwardRequest is one forward at a time to a leader that
// answers at once: the cost of a request, both ends in this process (the
// leader is net/http's server either way). client=own is the forwarder's
// kept connections, client=net-http net/http's client.
func BenchmarkForwardRequest(b *testing.B) {
	for _, client := range []string{"own", "net-http"} {
		b.Run("client="+client, func(b *testing.B) {
			srv := httptest.NewServer(CPApplyHandler(delayCP{0}, ""))
			defer srv.Close()
			addr := strings.TrimPrefix(srv.URL, "http://")
			f := NewHTTPForwarder("", 5*time.Second)
			if client == "net-http" {
				f.Client.Transport = http.DefaultTransport
			}
			op := register(svcA, "10.0.9.2", false)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			for i := 0; i < b.N; i++ {
				if err := f.ForwardCP(context.Background(), addr, op); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
