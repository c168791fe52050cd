package httpfront

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConnectionsPerAddressAreBounded: idle connections from one address
// beyond MaxConnsPerIP are refused, and another address is still served
// at once (the attack held 19,000 sockets from one address).
func TestConnectionsPerAddressAreBounded(t *testing.T) {
	e := newWireEnv(t, func(c *Config) { c.MaxConnsPerIP = 4 })
	addr := e.s.Addr()
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for i := 0; i < 4; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	// The fifth from the same address is answered 429 and closed.
	var extra string
	waitFor(t, 5*time.Second, func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		defer c.Close()
		_, _ = c.Write([]byte("GET /nacos/v1/console/health/liveness HTTP/1.1\r\nHost: x\r\n\r\n"))
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		b, _ := io.ReadAll(c)
		extra = string(b)
		return strings.Contains(extra, " 429 ")
	})
	// Another address is served.
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: time.Second}
	cl := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, n, a string) (net.Conn, error) { return d.DialContext(ctx, n, a) }}}
	resp, err := cl.Get("http://" + addr + "/nacos/v1/console/health/liveness")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("another address: %d", resp.StatusCode)
	}
}
