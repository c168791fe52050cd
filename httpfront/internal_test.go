package httpfront

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"sextant/httpfront/auth"
	"sextant/naming"
)

// peerHandler is a node-to-node handler that counts its calls and, while
// hold is set, waits on it.
type peerHandler struct {
	calls atomic.Int64
	mu    sync.Mutex
	hold  chan struct{}
	in    chan struct{}
}

func (h *peerHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.calls.Add(1)
	h.mu.Lock()
	hold := h.hold
	h.mu.Unlock()
	if hold != nil {
		h.in <- struct{}{}
		<-hold
	}
	w.Write([]byte("peer:" + r.URL.Path))
}

// newPeerEnv is a front with access control on, a node that is not ready,
// every request observed, and peer as its internal handler.
func newPeerEnv(t *testing.T, wire bool, peer http.Handler, observed *atomic.Int64, mutate ...func(*Config)) *env {
	t.Helper()
	cat := naming.NewCatalog()
	acfg := auth.DefaultConfig()
	acfg.Enabled, acfg.BcryptCost, acfg.DataDir = true, bcrypt.MinCost, t.TempDir()
	g, err := auth.New(acfg, cat, &testWriter{cat: cat}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	mutate = append([]func(*Config){func(c *Config) {
		c.Auth, c.Internal = g, peer
		c.Observe = func(string, string, int, time.Duration) { observed.Add(1) }
	}}, mutate...)
	e := newEnv(t, mutate...)
	e.cl.setReady(errors.New("loading from peers"))
	if wire {
		e.start()
	}
	return e
}

func TestInternalPathSkipsThePublicChecks(t *testing.T) {
	for _, wire := range []bool{false, true} {
		peer := &peerHandler{}
		var observed atomic.Int64
		e := newPeerEnv(t, wire, peer, &observed)
		// A public request is refused (not ready; no login) and observed.
		e.must(503, "GET", "/nacos/v1/ns/instance/list?serviceName=demo", "")
		if observed.Load() != 1 {
			t.Fatalf("wire=%v: public requests observed %d times", wire, observed.Load())
		}
		// A peer's request reaches the internal handler, with no login, on a
		// node not ready, and is not observed as an API request.
		rec := e.must(200, "POST", InternalPrefix+"/v1/distro/sync", "x=1")
		if rec.Body.String() != "peer:/sextant/v1/distro/sync" || peer.calls.Load() != 1 || observed.Load() != 1 {
			t.Fatalf("wire=%v: %q, calls %d, observed %d", wire, rec.Body.String(), peer.calls.Load(), observed.Load())
		}
	}
}

func TestInternalPathBoundsBodyBeforeReading(t *testing.T) {
	for _, wire := range []bool{false, true} {
		peer := &peerHandler{}
		var observed atomic.Int64
		signed := func(c *Config) {
			c.MaxBodyBytes, c.InternalMaxBodyBytes = 1024, 4096
			c.InternalSigned = func(string, string, func(string) string) bool { return true }
		}
		e := newPeerEnv(t, wire, peer, &observed, signed)
		e.must(200, "POST", InternalPrefix+"/v1/distro/sync", "x="+strings.Repeat("a", 3000))
		rec := e.must(413, "POST", InternalPrefix+"/v1/distro/sync", "x="+strings.Repeat("a", 5000))
		if !strings.Contains(rec.Body.String(), "4096") {
			t.Fatalf("wire=%v: 413 body %q", wire, rec.Body.String())
		}
		if peer.calls.Load() != 1 {
			t.Fatalf("wire=%v: the internal handler ran %d times, want once", wire, peer.calls.Load())
		}

		// A request whose signature headers do not pass keeps the public
		// bound: the large one is only for members.
		unsigned := &peerHandler{}
		e = newPeerEnv(t, wire, unsigned, &observed, func(c *Config) {
			c.MaxBodyBytes, c.InternalMaxBodyBytes = 1024, 4096
			c.InternalSigned = func(string, string, func(string) string) bool { return false }
		})
		rec = e.must(413, "POST", InternalPrefix+"/v1/distro/sync", "x="+strings.Repeat("a", 3000))
		if !strings.Contains(rec.Body.String(), "1024") || unsigned.calls.Load() != 0 {
			t.Fatalf("wire=%v: unsigned 3000 bytes: %q, handler ran %d times", wire, rec.Body.String(), unsigned.calls.Load())
		}
	}
}

func TestInternalInFlightBound(t *testing.T) {
	for _, wire := range []bool{false, true} {
		peer := &peerHandler{hold: make(chan struct{}), in: make(chan struct{}, 1)}
		var observed atomic.Int64
		e := newPeerEnv(t, wire, peer, &observed, func(c *Config) { c.InternalMaxInFlight, c.MaxInFlight = 1, 1 })
		done := make(chan int, 1)
		go func() {
			rec := e.req("POST", InternalPrefix+"/v1/cluster/report", "")
			done <- rec.Code
		}()
		<-peer.in // one peer request in flight: the bound is reached
		rec := e.must(503, "POST", InternalPrefix+"/v1/cluster/report", "")
		if rec.Header().Get("Retry-After") != "1" {
			t.Fatalf("wire=%v: Retry-After %q", wire, rec.Header().Get("Retry-After"))
		}
		// Clients have their own bound: the peer in flight does not count.
		e.cl.setReady(nil)
		e.must(403, "GET", "/nacos/v1/ns/instance/list?serviceName=demo", "")
		peer.mu.Lock()
		close(peer.hold)
		peer.hold = nil
		peer.mu.Unlock()
		if code := <-done; code != 200 {
			t.Fatalf("wire=%v: held request answered %d", wire, code)
		}
		e.must(200, "POST", InternalPrefix+"/v1/cluster/report", "")
	}
}

func TestNoInternalHandler(t *testing.T) {
	e := newWireEnv(t)
	rec := e.must(404, "GET", InternalPrefix+"/v1/cluster/members", "")
	if !strings.Contains(rec.Body.String(), "no node-to-node paths") {
		t.Fatalf("body %q", rec.Body.String())
	}
}
