package main

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// clientFrom is an HTTP client whose connections come from ip.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// TestWrongLoginsDoNotLockOthersOut is the login attack of issue 16 on a
// real node: 200 concurrent wrong logins from one address while four real
// logins come from another. The real ones succeed, the guesses are slowed
// (most are refused without a bcrypt), and failures are logged.
func TestWrongLoginsDoNotLockOthersOut(t *testing.T) {
	p := startSextant(t, "", "--auth-enabled", "--auth-admin-password", "admin-pass-1")
	login := func(c *http.Client, pw string) (int, string) {
		resp, err := c.PostForm("http://"+p.httpAddr+"/nacos/v1/auth/users/login", url.Values{"username": {"nacos"}, "password": {pw}})
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 512)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return resp.StatusCode, b.String()
	}
	attacker, user := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	waitFor(t, 10*time.Second, "the administrator", func() bool {
		code, _ := login(clientFrom("127.0.0.3"), "admin-pass-1")
		return code == 200
	})
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, body := login(attacker, "guess")
			if strings.Contains(body, "too many") {
				mu.Lock()
				refused++
				mu.Unlock()
			}
		}()
	}
	var good [4]int
	var bodies [4]string
	for i := range good {
		wg.Add(1)
		go func() {
			defer wg.Done()
			good[i], bodies[i] = login(user, "admin-pass-1")
		}()
	}
	wg.Wait()
	for i, code := range good {
		if code != 200 {
			t.Errorf("real login %d: %d %s", i, code, bodies[i])
		}
	}
	t.Logf("%d of 200 guesses refused by the backoff", refused)
	if refused < 150 {
		t.Errorf("only %d of 200 guesses were refused without a bcrypt", refused)
	}
	if !strings.Contains(p.logs.String(), "failed password check") {
		t.Error("failed logins are not logged")
	}
}
