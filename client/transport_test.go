package client

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer answers every request with the given status and body and
// counts the requests.
func fakeServer(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(s.Close)
	return s, &hits
}

func host(s *httptest.Server) string {
	return strings.TrimPrefix(strings.TrimPrefix(s.URL, "http://"), "https://")
}

func newTestTransport(t *testing.T, cfg Config, addrs ...string) *transport {
	t.Helper()
	log, _ := testLog()
	if cfg.TimeoutMs == 0 {
		cfg = DefaultConfig()
		cfg.TimeoutMs = 1000
	}
	tr, err := newTransport(cfg, newServerList(addrs, time.Minute), log)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestRetryMovesOnAndCoolsDown(t *testing.T) {
	bad, badHits := fakeServer(t, 500, "boom")
	good, goodHits := fakeServer(t, 200, "ok")
	dead := deadAddr(t)
	tr := newTestTransport(t, Config{}, host(bad), dead, host(good))
	tr.servers.intn = func(int) int { return 0 } // start at the failing ones
	body, err := tr.call(t.Context(), http.MethodGet, "/v1/ns/x", nil)
	if err != nil || string(body) != "ok" {
		t.Fatalf("call: %q %v", body, err)
	}
	if badHits.Load() != 1 || goodHits.Load() != 1 {
		t.Fatalf("hits bad=%d good=%d, want 1 and 1", badHits.Load(), goodHits.Load())
	}
	if tr.LastContact().IsZero() {
		t.Error("a success did not count as server contact")
	}
	// Both failures are cooling down: the next calls go to the good one first.
	for i := 0; i < 5; i++ {
		if _, err := tr.call(t.Context(), http.MethodGet, "/v1/ns/x", nil); err != nil {
			t.Fatal(err)
		}
	}
	if badHits.Load() != 1 || goodHits.Load() != 6 {
		t.Fatalf("after cool-down: hits bad=%d good=%d, want 1 and 6", badHits.Load(), goodHits.Load())
	}
}

func TestAllServersFailedIsOneClearError(t *testing.T) {
	bad, _ := fakeServer(t, 503, "server is DOWN now")
	dead := deadAddr(t)
	tr := newTestTransport(t, Config{}, host(bad), dead)
	_, err := tr.call(t.Context(), http.MethodPost, "/v1/ns/instance", nil)
	var re *RequestError
	if !errors.As(err, &re) || !errors.Is(err, ErrAllServersFailed) || len(re.Attempts) != 2 {
		t.Fatalf("error %v (%T)", err, err)
	}
	msg := err.Error()
	for _, want := range []string{"POST /v1/ns/instance failed on 2 server(s)", host(bad), "HTTP 503", dead, "refused"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 503 {
		t.Errorf("the 503 is not reachable through errors.As: %v", se)
	}
	tr.servers.set(nil)
	if _, err := tr.call(t.Context(), http.MethodGet, "/x", nil); !errors.Is(err, ErrNoServers) {
		t.Errorf("empty list: %v", err)
	}
}

func TestClientErrorIsNotRetried(t *testing.T) {
	for _, status := range []int{400, 403, 404} {
		first, firstHits := fakeServer(t, status, "Param 'ip' is required.")
		second, secondHits := fakeServer(t, 200, "ok")
		tr := newTestTransport(t, Config{}, host(first), host(second))
		tr.servers.intn = func(int) int { return 0 }
		_, err := tr.call(t.Context(), http.MethodPost, "/v1/ns/instance", nil)
		var se *StatusError
		if !errors.As(err, &se) || se.Status != status || !strings.Contains(err.Error(), "Param 'ip' is required.") {
			t.Fatalf("%d: error %v", status, err)
		}
		if firstHits.Load() != 1 || secondHits.Load() != 0 {
			t.Fatalf("%d retried: hits %d %d", status, firstHits.Load(), secondHits.Load())
		}
	}
	// 429 is the server's state, not the request's: the next server is tried.
	busy, _ := fakeServer(t, 429, "slow down")
	good, goodHits := fakeServer(t, 200, "ok")
	tr := newTestTransport(t, Config{}, host(busy), host(good))
	tr.servers.intn = func(int) int { return 0 }
	if _, err := tr.call(t.Context(), http.MethodGet, "/x", nil); err != nil || goodHits.Load() != 1 {
		t.Fatalf("429 not retried elsewhere: %v", err)
	}
}

func TestPerAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	good, _ := fakeServer(t, 200, "ok")
	cfg := DefaultConfig()
	cfg.TimeoutMs = 150
	tr := newTestTransport(t, cfg, host(slow), host(good))
	tr.servers.intn = func(int) int { return 0 }
	start := time.Now()
	if _, err := tr.call(t.Context(), http.MethodGet, "/x", nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("a hung server held the request for %v", d)
	}
	// The caller's context ends the request without blaming more servers.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	tr.servers.set([]string{host(slow)})
	tr.servers.ok(host(slow))
	_, err := tr.call(ctx, http.MethodGet, "/x", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("caller deadline: %v", err)
	}
}

func TestLoginSendsTokenAndRenewsOn403(t *testing.T) {
	var mu sync.Mutex
	current, logins := "", 0
	var seen []string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/nacos/v1/auth/users/login" {
			if r.Form.Get("username") != "nacos" || r.Form.Get("password") != "secret" {
				w.WriteHeader(403)
				w.Write([]byte("unknown user!"))
				return
			}
			logins++
			current = "tok" + itoa(logins)
			w.Write([]byte(`{"accessToken":"` + current + `","tokenTtl":18000,"globalAdmin":true}`))
			return
		}
		seen = append(seen, r.Form.Get("accessToken"))
		if r.Form.Get("accessToken") != current {
			w.WriteHeader(403)
			w.Write([]byte("token expired!"))
			return
		}
		w.Write([]byte("ok"))
	}))
	defer s.Close()
	cfg := DefaultConfig()
	cfg.TimeoutMs = 1000
	cfg.Username, cfg.Password = "nacos", "secret"
	tr := newTestTransport(t, cfg, host(s))
	if _, err := tr.call(t.Context(), http.MethodPost, "/v1/ns/instance", nil); err != nil {
		t.Fatal(err)
	}
	// The server forgets the token: the client logs in again and retries.
	mu.Lock()
	current = "rotated"
	mu.Unlock()
	if _, err := tr.call(t.Context(), http.MethodGet, "/v1/ns/instance/list", nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if logins != 2 || strings.Join(seen, ",") != "tok1,tok1,tok2" {
		t.Fatalf("logins %d, tokens sent %v", logins, seen)
	}
	if _, _, err := parseLogin([]byte(`{"accessToken":"x","tokenTtl":"18000"}`)); err == nil {
		t.Error("a string tokenTtl was accepted")
	}
}

func TestHTTPSWithCAFile(t *testing.T) {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	defer s.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.TimeoutMs = 1000
	cfg.CAFile = ca
	tr := newTestTransport(t, cfg, host(s))
	if body, err := tr.call(t.Context(), http.MethodGet, "/x", nil); err != nil || string(body) != "ok" {
		t.Fatalf("https with CA file: %q %v", body, err)
	}
	cfg.CAFile, cfg.Scheme = "", "https"
	tr = newTestTransport(t, cfg, host(s))
	if _, err := tr.call(t.Context(), http.MethodGet, "/x", nil); err == nil {
		t.Fatal("an unknown CA was trusted")
	}
	cfg.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	entry, _ := testLog()
	if _, err := newTransport(cfg, newServerList(nil, 0), entry); err == nil {
		t.Fatal("a missing CA file was accepted")
	}
}
