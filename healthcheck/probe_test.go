package healthcheck

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sextant/naming"
)

// probeWith runs one probe bounded by the target's timeout, as the checker does.
func probeWith(p Prober, tg Target) (Result, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), tg.Timeout)
	defer cancel()
	start := time.Now()
	r := p.Probe(ctx, tg)
	return r, time.Since(start)
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestTCPProbe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	p := DefaultProber()
	if r, _ := probeWith(p, Target{Type: TypeTCP, Addr: ln.Addr().String(), Timeout: time.Second}); !r.OK {
		t.Fatalf("open port: %+v", r)
	}
	if r, _ := probeWith(p, Target{Type: TypeTCP, Addr: closedAddr(t), Timeout: time.Second}); r.OK || r.Reason != "connection refused" {
		t.Fatalf("closed port: %+v", r)
	}
	if r, _ := probeWith(p, Target{Type: "MYSQL", Addr: ln.Addr().String(), Timeout: time.Second}); r.OK {
		t.Fatalf("unknown type passed: %+v", r)
	}
}

func TestTCPProbeOfAListenerThatNeverAccepts(t *testing.T) {
	addr, ok := fullBacklog(t)
	if !ok {
		t.Skip("this system completes connections beyond the listen backlog; cannot build a listener that never accepts")
	}
	r, took := probeWith(TCPProber{}, Target{Type: TypeTCP, Addr: addr, Timeout: 200 * time.Millisecond})
	if r.OK || r.Reason != "timeout after 200ms" {
		t.Fatalf("never-accepting listener: %+v", r)
	}
	if took > 2*time.Second {
		t.Fatalf("probe took %v with a 200ms timeout", took)
	}
}

// httpTarget is a test HTTP server on loopback whose status can be set,
// and which can be stopped and started again on the same address.
type httpTarget struct {
	t      *testing.T
	addr   string
	status atomic.Int32
	hang   atomic.Bool
	lastUA atomic.Value
	lastX  atomic.Value
	host   atomic.Value
	hits   atomic.Int32 // connections accepted
	srv    *http.Server
}

func newHTTPTarget(t *testing.T, addr string) *httpTarget {
	t.Helper()
	h := &httpTarget{t: t, addr: addr}
	h.status.Store(200)
	h.start()
	t.Cleanup(h.stop)
	return h
}

func (h *httpTarget) start() {
	h.t.Helper()
	var ln net.Listener
	var err error
	// The port was just ours; retry briefly if the kernel still holds it.
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", h.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		h.t.Fatalf("listen %s: %v", h.addr, err)
	}
	h.addr = ln.Addr().String()
	hang := make(chan struct{})
	h.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.lastUA.Store(r.UserAgent())
		h.lastX.Store(r.Header.Get("X-Check"))
		h.host.Store(r.Host)
		if h.hang.Load() {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		if r.URL.Path != "/health" {
			w.WriteHeader(404)
			return
		}
		w.WriteHeader(int(h.status.Load()))
	}), ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			h.hits.Add(1)
		}
	}}
	h.srv.RegisterOnShutdown(func() { close(hang) })
	go h.srv.Serve(ln)
}

func (h *httpTarget) stop() {
	if h.srv != nil {
		h.srv.Close()
		h.srv = nil
	}
}

func TestHTTPProbe(t *testing.T) {
	h := newHTTPTarget(t, "127.0.0.1:0")
	p := DefaultProber()
	tg := Target{Type: TypeHTTP, Addr: h.addr, Path: "health", Timeout: time.Second,
		Headers: []naming.CheckHeader{{Name: "X-Check", Value: "1"}, {Name: "Host", Value: "svc.local"}}}
	if r, _ := probeWith(p, tg); !r.OK || r.Reason != "HTTP 200" {
		t.Fatalf("200: %+v", r)
	}
	// Host is reserved: a stored one (refused since) is never sent.
	if h.lastX.Load() != "1" || h.host.Load() != h.addr || h.lastUA.Load() != "Sextant-Health-Check" {
		t.Fatalf("headers not sent: X=%v host=%v ua=%v", h.lastX.Load(), h.host.Load(), h.lastUA.Load())
	}
	h.status.Store(500)
	if r, _ := probeWith(p, tg); r.OK || r.Reason != "HTTP 500" {
		t.Fatalf("500: %+v", r)
	}
	// Redirects are judged, not followed; only the expected codes pass.
	h.status.Store(302)
	if r, _ := probeWith(p, tg); r.OK || r.Reason != "HTTP 302" {
		t.Fatalf("302 with default codes: %+v", r)
	}
	h.status.Store(204)
	codes, err := naming.ParseStatusCodes("2xx,302")
	if err != nil {
		t.Fatal(err)
	}
	tg.Codes = codes
	if r, _ := probeWith(p, tg); !r.OK {
		t.Fatalf("204 with 2xx: %+v", r)
	}
	h.status.Store(302)
	if r, _ := probeWith(p, tg); !r.OK {
		t.Fatalf("302 listed: %+v", r)
	}
	tg.Path = "/other"
	if r, _ := probeWith(p, tg); r.OK || r.Reason != "HTTP 404" {
		t.Fatalf("wrong path: %+v", r)
	}
	h.stop()
	if r, _ := probeWith(p, tg); r.OK || r.Reason != "connection refused" {
		t.Fatalf("stopped server: %+v", r)
	}
}

func TestHTTPProbeOfAServerThatNeverAnswers(t *testing.T) {
	h := newHTTPTarget(t, "127.0.0.1:0")
	h.hang.Store(true)
	r, took := probeWith(DefaultProber(), Target{Type: TypeHTTP, Addr: h.addr, Path: "/health", Timeout: 150 * time.Millisecond})
	if r.OK || r.Reason != "timeout after 150ms" {
		t.Fatalf("hanging server: %+v", r)
	}
	if took > 2*time.Second {
		t.Fatalf("probe took %v with a 150ms timeout", took)
	}

	// A listener that accepts and never reads or writes.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	r, _ = probeWith(DefaultProber(), Target{Type: TypeHTTP, Addr: ln.Addr().String(), Timeout: 150 * time.Millisecond})
	if r.OK || r.Reason != "timeout after 150ms" {
		t.Fatalf("silent listener: %+v", r)
	}
}

func TestReasonOf(t *testing.T) {
	ctx := context.Background()
	done, cancel := context.WithCancel(ctx)
	cancel()
	cases := []struct {
		ctx  context.Context
		err  error
		want string
	}{
		{ctx, context.DeadlineExceeded, "timeout after 1s"},
		{ctx, errors.New("dial tcp 10.0.0.1:80: connect: no route to host"), "no route to host"},
		{done, context.Canceled, "probe cancelled"},
		{ctx, errors.New(strings.Repeat("x", 300)), strings.Repeat("x", 200)},
	}
	for _, c := range cases {
		if got := reasonOf(c.ctx, c.err, time.Second); got != c.want {
			t.Errorf("reasonOf(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestProbesRefuseInternalAddresses: with the node's defaults, probes of
// loopback, link-local, metadata and unspecified addresses fail without a
// connection, saying why; AllowInternal lets them through.
func TestProbesRefuseInternalAddresses(t *testing.T) {
	h := newHTTPTarget(t, "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(h.addr)
	guarded := ProberFor(DefaultProbeConfig())
	for _, addr := range []string{h.addr, "[::1]:" + port, "169.254.169.254:80", "[fe80::1]:80", "100.100.100.200:80", "0.0.0.0:" + port, "[::ffff:127.0.0.1]:" + port} {
		for _, typ := range []string{TypeTCP, TypeHTTP} {
			r, _ := probeWith(guarded, Target{Type: typ, Addr: addr, Path: "/", Timeout: time.Second})
			if r.OK || !strings.Contains(r.Reason, "refused") || !strings.Contains(r.Reason, "addresses are not probed") {
				t.Errorf("%s probe of %s: %+v", typ, addr, r)
			}
		}
	}
	if n := h.hits.Load(); n != 0 {
		t.Fatalf("the loopback target was reached %d times", n)
	}
	cfg := DefaultProbeConfig()
	cfg.AllowInternal = true
	if r, _ := probeWith(ProberFor(cfg), Target{Type: TypeHTTP, Addr: h.addr, Path: "/health", Timeout: time.Second}); !r.OK {
		t.Fatalf("allowed: %+v", r)
	}
}
