package nodeauth

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// echo answers the body it was handed.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	_, _ = w.Write(b)
})

func signed(t *testing.T, method, uri, secret string, body []byte, at time.Time) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, uri, bytes.NewReader(body))
	r.Header.Set(FromHeader, "10.0.0.1:8848")
	Sign(r, secret, body, at)
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestGuardRefusesWhatIsNotSignedByTheSecret(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	reached := 0
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++; echo(w, r) })
	g := NewGuard("the-cluster-secret", 1<<10, 4, func() time.Time { return now }, next)
	body := []byte(`{"kind":16}`)

	ok := serve(g, signed(t, http.MethodPost, "/sextant/v1/raft/apply", "the-cluster-secret", body, now))
	if ok.Code != http.StatusOK || ok.Body.String() != string(body) {
		t.Fatalf("signed request: %d %q", ok.Code, ok.Body)
	}
	cases := map[string]*http.Request{
		"unsigned":             httptest.NewRequest(http.MethodPost, "/sextant/v1/raft/apply", bytes.NewReader(body)),
		"other secret":         signed(t, http.MethodPost, "/sextant/v1/raft/apply", "another-secret-xx", body, now),
		"too old":              signed(t, http.MethodPost, "/sextant/v1/raft/apply", "the-cluster-secret", body, now.Add(-Window-time.Second)),
		"from the future":      signed(t, http.MethodPost, "/sextant/v1/raft/apply", "the-cluster-secret", body, now.Add(Window+time.Second)),
		"secret in clear only": httptest.NewRequest(http.MethodPost, "/sextant/v1/raft/apply", bytes.NewReader(body)),
	}
	cases["secret in clear only"].Header.Set("X-Sextant-Secret", "the-cluster-secret")
	// Signed for one path, sent to another.
	moved := signed(t, http.MethodPost, "/sextant/v1/distro/sync", "the-cluster-secret", body, now)
	moved.URL.Path, moved.RequestURI = "/sextant/v1/raft/apply", "/sextant/v1/raft/apply"
	cases["other path"] = moved
	// The signed headers with another body.
	swapped := signed(t, http.MethodPost, "/sextant/v1/raft/apply", "the-cluster-secret", body, now)
	swapped.Body = io.NopCloser(strings.NewReader(`{"kind":19}`))
	cases["other body"] = swapped
	// Another sender named.
	spoofed := signed(t, http.MethodPost, "/sextant/v1/raft/apply", "the-cluster-secret", body, now)
	spoofed.Header.Set(FromHeader, "10.0.0.9:8848")
	cases["other sender"] = spoofed
	for name, r := range cases {
		if w := serve(g, r); w.Code != http.StatusUnauthorized || w.Body.Len() == 0 {
			t.Errorf("%s: %d %q, want 401 with a message", name, w.Code, w.Body)
		}
	}
	// A recorded request replayed within the window.
	r := signed(t, http.MethodPost, "/sextant/v1/raft/apply", "the-cluster-secret", body, now)
	replay := r.Clone(r.Context())
	replay.Body = io.NopCloser(bytes.NewReader(body))
	if w := serve(g, r); w.Code != http.StatusOK {
		t.Fatalf("first: %d", w.Code)
	}
	if w := serve(g, replay); w.Code != http.StatusUnauthorized {
		t.Errorf("replay: %d, want 401", w.Code)
	}
	if w := serve(g, signed(t, http.MethodPost, "/x", "the-cluster-secret", make([]byte, 2<<10), now)); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("large signed body: %d, want 413", w.Code)
	}
	if reached != 2 {
		t.Fatalf("the handler ran %d times, want 2 (the signed requests)", reached)
	}
}

func TestGuardBoundsSignedRequestsInFlight(t *testing.T) {
	gate, in := make(chan struct{}), make(chan struct{}, 8)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { in <- struct{}{}; <-gate })
	g := NewGuard("the-cluster-secret", 1<<10, 2, time.Now, next)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			serve(g, signed(t, http.MethodPost, "/x", "the-cluster-secret", nil, time.Now()))
		}()
	}
	<-in
	<-in
	w := serve(g, signed(t, http.MethodPost, "/x", "the-cluster-secret", nil, time.Now()))
	close(gate)
	wg.Wait()
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("third request at once: %d, want 503", w.Code)
	}
}

func TestEmptySecretChecksNothing(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	Sign(r, "", nil, time.Now())
	if r.Header.Get(SignatureHeader) != "" {
		t.Fatal("signed with an empty secret")
	}
	if w := serve(Require("", 10, echo), r); w.Code != http.StatusOK {
		t.Fatalf("%d", w.Code)
	}
}

// TestGuardForgetsNoncesOfExpiredRequests: the replay set holds only the
// nonces of requests that could still pass the time check.
func TestGuardForgetsNoncesOfExpiredRequests(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g := NewGuard("the-cluster-secret", 1<<10, 4, func() time.Time { return now }, echo)
	for i := 0; i < 10; i++ {
		if w := serve(g, signed(t, http.MethodPost, "/x", "the-cluster-secret", nil, now)); w.Code != http.StatusOK {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
	if len(g.seen) != 10 {
		t.Fatalf("%d nonces held, want 10", len(g.seen))
	}
	now = now.Add(Window + time.Second)
	if w := serve(g, signed(t, http.MethodPost, "/x", "the-cluster-secret", nil, now)); w.Code != http.StatusOK {
		t.Fatalf("later request: %d", w.Code)
	}
	if len(g.seen) != 1 {
		t.Fatalf("%d nonces held after the window, want 1", len(g.seen))
	}
}
