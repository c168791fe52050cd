package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// loginRetry is the shortest time between two failed logins.
const loginRetry = 5 * time.Second

// auth holds the access token of a username/password login and renews it
// when 90% of its lifetime has passed, as Nacos clients do.
type auth struct {
	t          *transport
	user, pass string
	now        func() time.Time

	mu        sync.Mutex
	tok       string
	refreshAt time.Time
	expires   time.Time
	lastTry   time.Time
}

// token returns a token to send, logging in first when there is none or it
// is due for renewal. A failed login keeps the old token until it expires
// and is not retried within loginRetry.
func (a *auth) token(ctx context.Context) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if a.tok != "" && now.Before(a.refreshAt) {
		return a.tok
	}
	if now.Sub(a.lastTry) < loginRetry {
		return a.valid(now)
	}
	a.lastTry = now
	tok, ttl, err := a.login(ctx)
	if err != nil {
		a.t.log.WithError(err).Warn("login failed")
		return a.valid(now)
	}
	a.tok, a.refreshAt, a.expires = tok, now.Add(ttl-ttl/10), now.Add(ttl)
	a.lastTry = time.Time{}
	return tok
}

func (a *auth) valid(now time.Time) string {
	if a.tok != "" && now.Before(a.expires) {
		return a.tok
	}
	return ""
}

// invalidate drops tok after a server refused it, so the next call logs in.
func (a *auth) invalidate(tok string) {
	a.mu.Lock()
	if a.tok == tok {
		a.tok, a.lastTry = "", time.Time{}
	}
	a.mu.Unlock()
}

// login asks the servers in turn for a token.
func (a *auth) login(ctx context.Context) (string, time.Duration, error) {
	body, err := a.t.roundTrip(ctx, http.MethodPost, "/v1/auth/users/login",
		url.Values{"username": {a.user}, "password": {a.pass}}, false)
	if err != nil {
		return "", 0, err
	}
	return parseLogin(body)
}

// parseLogin reads {"accessToken":"...","tokenTtl":18000}; tokenTtl is in
// seconds.
func parseLogin(body []byte) (string, time.Duration, error) {
	var r struct {
		AccessToken string   `json:"accessToken"`
		TokenTTL    *float64 `json:"tokenTtl"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", 0, fmt.Errorf("login answer is not JSON: %w", err)
	}
	if r.AccessToken == "" {
		return "", 0, errors.New("login answer has no accessToken")
	}
	ttl := 18000 * time.Second
	if r.TokenTTL != nil && *r.TokenTTL > 0 {
		ttl = time.Duration(*r.TokenTTL * float64(time.Second))
	}
	return r.AccessToken, ttl, nil
}
