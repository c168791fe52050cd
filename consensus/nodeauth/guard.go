package nodeauth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultMaxInFlight is the signed requests one Guard serves at once.
const DefaultMaxInFlight = 64

// Guard serves a handler to signed requests only.
type Guard struct {
	secret  string
	maxBody int64
	next    http.Handler
	slots   chan struct{}
	now     func() time.Time

	mu   sync.Mutex
	seen map[[16]byte]int64 // nonces of requests still valid → when they stop being (Unix ms)
	last time.Time          // of the last prune
}

// Require serves next to requests signed with secret whose bodies hold at
// most maxBody bytes (413 beyond). An empty secret serves every request.
func Require(secret string, maxBody int64, next http.Handler) http.Handler {
	if secret == "" {
		return next
	}
	return NewGuard(secret, maxBody, DefaultMaxInFlight, time.Now, next)
}

// NewGuard is Require with its in-flight bound and clock given.
func NewGuard(secret string, maxBody int64, maxInFlight int, now func() time.Time, next http.Handler) *Guard {
	return &Guard{secret: secret, maxBody: maxBody, next: next, slots: make(chan struct{}, maxInFlight),
		now: now, seen: map[[16]byte]int64{}}
}

func (g *Guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := g.now()
	if err := CheckHeaders(g.secret, r.Method, r.URL.RequestURI(), r.Header.Get, now); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	select {
	case g.slots <- struct{}{}:
		defer func() { <-g.slots }()
	default:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many node-to-node requests at once; retry", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.maxBody))
	if err != nil {
		var big *http.MaxBytesError
		if errors.As(err, &big) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != r.Header.Get(DigestHeader) {
		http.Error(w, "body does not match its signed digest", http.StatusUnauthorized)
		return
	}
	if !g.fresh(r.Header.Get(NonceHeader), r.Header.Get(TimeHeader), now) {
		http.Error(w, "replayed node-to-node request refused", http.StatusUnauthorized)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	g.next.ServeHTTP(w, r)
}

// fresh records nonce and reports whether it was unseen while its request
// (sent at ts, Unix ms) can still pass the time check. Only signed
// requests reach it, so only members fill the set, and each entry goes
// once its request is too old to be replayed.
func (g *Guard) fresh(nonce, ts string, now time.Time) bool {
	var key [16]byte
	if n, err := hex.Decode(key[:], []byte(nonce)); err != nil || n != len(key) {
		return false
	}
	sent, _ := strconv.ParseInt(ts, 10, 64) // checked by CheckHeaders
	g.mu.Lock()
	defer g.mu.Unlock()
	ms := now.UnixMilli()
	if now.Sub(g.last) > Window/4 {
		for n, until := range g.seen {
			if until < ms {
				delete(g.seen, n)
			}
		}
		g.last = now
	}
	if _, ok := g.seen[key]; ok {
		return false
	}
	g.seen[key] = sent + Window.Milliseconds()
	return true
}
