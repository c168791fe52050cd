package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer is an httptest server that counts the connections it
// accepted.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func hostOf(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

// rawServer accepts connections on 127.0.0.1 and hands each to serve.
func rawServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// readRequest reads one request (headers and Content-Length body).
func readRequest(br *bufio.Reader) (*http.Request, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, req.Body)
	return req, err
}

func TestAppendQueryEscapeMatchesURL(t *testing.T) {
	var all []byte
	for c := 0; c < 256; c++ {
		all = append(all, byte(c))
	}
	for _, s := range []string{"", "abc", "a b+c", `{"ip":"1.2.3.4"}`, "DEFAULT_GROUP@@x/y?z&w=1", "ümlaut~-_.", string(all)} {
		if got, want := string(appendQueryEscape(nil, s)), url.QueryEscape(s); got != want {
			t.Errorf("appendQueryEscape(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestAppendBeatFormMatchesEncode(t *testing.T) {
	cases := []struct {
		service, ip string
		port        int
	}{
		{"beat-0000", "127.1.0.1", 7000},
		{"beat-0199", "127.2.78.33", 0},
		{"odd name&x=y@@z", "::1", 65535},
	}
	buf := []byte("stale bytes")
	for _, c := range cases {
		buf = appendBeatForm(buf[:0], c.service, c.ip, c.port)
		if got, want := string(buf), beatForm(c.service, c.ip, c.port).Encode(); got != want {
			t.Errorf("appendBeatForm(%q, %q, %d) =\n%s\nwant\n%s", c.service, c.ip, c.port, got, want)
		}
	}
}

// The lean client sends what httpDo sends: method, path, Host,
// User-Agent, Content-Type, Content-Length and the same form.
func TestLeanConnSendsWhatHTTPDoSends(t *testing.T) {
	type seen struct {
		method, path, host, ua, ctype string
		length                        int64
		form                          url.Values
		te                            []string
	}
	var mu sync.Mutex
	var got []seen
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.Path, r.Host, r.UserAgent(), r.Header.Get("Content-Type"), r.ContentLength, r.PostForm, r.TransferEncoding})
		mu.Unlock()
		io.WriteString(w, "ok")
	})
	ctx := context.Background()
	vals := beatForm("beat-0001", "127.1.0.2", 7000)
	if _, _, err := httpDo(ctx, "PUT", hostOf(srv), beatPath, vals, ""); err != nil {
		t.Fatal(err)
	}
	c := newLeanConn(hostOf(srv), 5*time.Second)
	defer c.Close()
	code, body, err := c.do(ctx, "PUT", beatPath, appendBeatForm(nil, "beat-0001", "127.1.0.2", 7000))
	if err != nil || code != 200 || string(body) != "ok" {
		t.Fatalf("do = %d %q %v", code, body, err)
	}
	if len(got) != 2 {
		t.Fatalf("server saw %d requests", len(got))
	}
	a, b := got[0], got[1]
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("httpDo sent %+v\nlean client sent %+v", a, b)
	}
	if b.method != "PUT" || b.path != beatPath || b.ctype != "application/x-www-form-urlencoded" || b.form.Get("beat") != vals.Get("beat") {
		t.Errorf("lean client sent %+v", b)
	}
}

func TestLeanConnStatusBodyAndKeepAlive(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		switch r.PostForm.Get("status") {
		case "404":
			w.WriteHeader(404)
			io.WriteString(w, `{"code":20404,"message":"no instance"}`)
		case "204":
			w.WriteHeader(204)
		default:
			fmt.Fprintf(w, "answer to %s", r.PostForm.Get("n"))
		}
	})
	c := newLeanConn(hostOf(srv), 5*time.Second)
	defer c.Close()
	ctx := context.Background()
	const n = 500
	for i := 0; i < n; i++ {
		code, body, err := c.do(ctx, "PUT", "/x", []byte(fmt.Sprintf("n=%d", i)))
		if err != nil || code != 200 || string(body) != fmt.Sprintf("answer to %d", i) {
			t.Fatalf("request %d: %d %q %v", i, code, body, err)
		}
	}
	code, body, err := c.do(ctx, "PUT", "/x", []byte("status=404"))
	if err != nil || code != 404 || !strings.Contains(string(body), "20404") {
		t.Fatalf("404: %d %q %v", code, body, err)
	}
	code, body, err = c.do(ctx, "PUT", "/x", []byte("status=204"))
	if err != nil || code != 204 || len(body) != 0 {
		t.Fatalf("204: %d %q %v", code, body, err)
	}
	if c.dials != 1 || conns.Load() != 1 {
		t.Errorf("%d requests used %d dials, server accepted %d connections; want 1", n+2, c.dials, conns.Load())
	}
}

func TestLeanConnChunked(t *testing.T) {
	parts := []string{"first part;", strings.Repeat("x", 5000), "", "last"}
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		for _, p := range parts {
			io.WriteString(w, p)
			w.(http.Flusher).Flush() // no Content-Length: chunked
		}
	})
	c := newLeanConn(hostOf(srv), 5*time.Second)
	defer c.Close()
	for i := 0; i < 3; i++ {
		code, body, err := c.do(context.Background(), "GET", "/", nil)
		if err != nil || code != 200 || string(body) != strings.Join(parts, "") {
			t.Fatalf("chunked: %d %d bytes %v", code, len(body), err)
		}
	}
	if c.dials != 1 {
		t.Errorf("dials = %d, want 1 (chunked answers keep the connection)", c.dials)
	}
}

func TestLeanConnChunkedExtensionsAndTrailers(t *testing.T) {
	addr := rawServer(t, func(conn net.Conn) {
		br := bufio.NewReader(conn)
		for {
			if _, err := readRequest(br); err != nil {
				return
			}
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"+
				"5;name=value\r\nhello\r\nA\r\n, chunked!\r\n0\r\nTrailer-One: x\r\n\r\n")
		}
	})
	c := newLeanConn(addr, 5*time.Second)
	defer c.Close()
	for i := 0; i < 2; i++ {
		code, body, err := c.do(context.Background(), "GET", "/", nil)
		if err != nil || code != 200 || string(body) != "hello, chunked!" {
			t.Fatalf("%d %q %v", code, body, err)
		}
	}
}

func TestLeanConnRejectsBadAnswers(t *testing.T) {
	for name, answer := range map[string]string{
		"gzip transfer coding": "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		"bad chunk size":       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"bad status line":      "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
		"not http":             "SSH-2.0-OpenSSH\r\n\r\n",
		"short body":           "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
		"bad content length":   "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			addr := rawServer(t, func(conn net.Conn) {
				if _, err := readRequest(bufio.NewReader(conn)); err == nil {
					io.WriteString(conn, answer)
				}
			})
			c := newLeanConn(addr, 5*time.Second)
			defer c.Close()
			code, body, err := c.do(context.Background(), "GET", "/", nil)
			if err == nil {
				t.Fatalf("accepted %q as %d %q", answer, code, body)
			}
			if c.conn != nil {
				t.Error("connection kept after a bad answer")
			}
		})
	}
}

// A body with neither Content-Length nor chunked coding ends with the
// connection, which is then not reused.
func TestLeanConnBodyToEOF(t *testing.T) {
	addr := rawServer(t, func(conn net.Conn) {
		if _, err := readRequest(bufio.NewReader(conn)); err == nil {
			io.WriteString(conn, "HTTP/1.1 200 OK\r\n\r\nuntil the end")
		}
	})
	c := newLeanConn(addr, 5*time.Second)
	defer c.Close()
	for i := 0; i < 2; i++ {
		code, body, err := c.do(context.Background(), "GET", "/", nil)
		if err != nil || code != 200 || string(body) != "until the end" {
			t.Fatalf("%d %q %v", code, body, err)
		}
	}
	if c.dials != 2 {
		t.Errorf("dials = %d, want 2", c.dials)
	}
}

func TestLeanConnReconnectsAfterServerClose(t *testing.T) {
	t.Run("Connection: close", func(t *testing.T) {
		var n atomic.Int64
		srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1)%3 == 0 {
				w.Header().Set("Connection", "close")
			}
			io.WriteString(w, "ok")
		})
		c := newLeanConn(hostOf(srv), 5*time.Second)
		defer c.Close()
		for i := 0; i < 9; i++ {
			if code, body, err := c.do(context.Background(), "PUT", "/", []byte("a=b")); err != nil || code != 200 || string(body) != "ok" {
				t.Fatalf("request %d: %d %q %v", i, code, body, err)
			}
		}
		if c.dials != 3 || conns.Load() != 3 {
			t.Errorf("dials %d, server connections %d; want 3", c.dials, conns.Load())
		}
	})
	t.Run("idle connection closed", func(t *testing.T) {
		srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
		c := newLeanConn(hostOf(srv), 5*time.Second)
		defer c.Close()
		for i := 0; i < 4; i++ {
			if code, body, err := c.do(context.Background(), "PUT", "/", []byte("a=b")); err != nil || code != 200 || string(body) != "ok" {
				t.Fatalf("request %d: %d %q %v", i, code, body, err)
			}
			srv.CloseClientConnections()
		}
		if c.dials != 4 || conns.Load() != 4 {
			t.Errorf("dials %d, server connections %d; want 4", c.dials, conns.Load())
		}
	})
	t.Run("reset mid-answer fails once, then reconnects", func(t *testing.T) {
		var n atomic.Int64
		addr := rawServer(t, func(conn net.Conn) {
			br := bufio.NewReader(conn)
			for {
				if _, err := readRequest(br); err != nil {
					return
				}
				if n.Add(1) == 2 {
					io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
					return // the answer is cut: a failure, not retried
				}
				io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}
		})
		c := newLeanConn(addr, 5*time.Second)
		defer c.Close()
		var errs int
		for i := 0; i < 4; i++ {
			if _, _, err := c.do(context.Background(), "PUT", "/", []byte("a=b")); err != nil {
				errs++
			}
		}
		if errs != 1 || c.dials != 2 || n.Load() != 4 {
			t.Errorf("errors %d, dials %d, requests served %d; want 1, 2, 4", errs, c.dials, n.Load())
		}
	})
	t.Run("server gone", func(t *testing.T) {
		srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
		c := newLeanConn(hostOf(srv), 5*time.Second)
		defer c.Close()
		if _, _, err := c.do(context.Background(), "GET", "/", nil); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		if _, _, err := c.do(context.Background(), "GET", "/", nil); err == nil {
			t.Fatal("request to a closed server succeeded")
		}
	})
}

func TestLeanConnTimeouts(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
		}
		io.WriteString(w, "ok")
	})
	defer close(release)
	slowOK := func(t *testing.T, c *leanConn, ctx context.Context, wantErr error) {
		t.Helper()
		t0 := time.Now()
		_, _, err := c.do(ctx, "GET", "/slow", nil)
		if err == nil {
			t.Fatal("slow request succeeded")
		}
		if wantErr != nil && !errors.Is(err, wantErr) {
			t.Errorf("error %v, want %v", err, wantErr)
		}
		if d := time.Since(t0); d > 5*time.Second {
			t.Errorf("slow request took %v, the bound was not honoured", d)
		}
		// The next request works, on a new connection.
		dials := c.dials
		if code, body, err := c.do(context.Background(), "GET", "/fast", nil); err != nil || code != 200 || string(body) != "ok" {
			t.Fatalf("after timeout: %d %q %v", code, body, err)
		}
		if c.dials != dials+1 {
			t.Errorf("dials %d after the timeout, want %d", c.dials, dials+1)
		}
	}
	t.Run("client timeout", func(t *testing.T) {
		c := newLeanConn(hostOf(srv), 200*time.Millisecond)
		defer c.Close()
		slowOK(t, c, context.Background(), nil)
	})
	t.Run("context deadline", func(t *testing.T) {
		c := newLeanConn(hostOf(srv), time.Minute)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		slowOK(t, c, ctx, context.DeadlineExceeded)
	})
	t.Run("context cancelled", func(t *testing.T) {
		c := newLeanConn(hostOf(srv), time.Minute)
		defer c.Close()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		slowOK(t, c, ctx, context.Canceled)
	})
	t.Run("context done before", func(t *testing.T) {
		c := newLeanConn(hostOf(srv), time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, err := c.do(ctx, "GET", "/fast", nil); !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if c.dials != 0 {
			t.Error("dialled with a cancelled context")
		}
	})
}

// The beat request through the lean client and through httpDo, against
// the same in-process server (ns/op includes the server's share).
func BenchmarkBeatLeanConn(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"clientBeatInterval":5000,"code":10200,"lightBeatEnabled":true}`)
	}))
	defer srv.Close()
	c := newLeanConn(hostOf(srv), 5*time.Second)
	defer c.Close()
	ctx := context.Background()
	var form []byte
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		form = appendBeatForm(form[:0], "beat-0001", instanceIP(i), 7000)
		if code, _, err := c.do(ctx, "PUT", beatPath, form); err != nil || code != 200 {
			b.Fatal(code, err)
		}
	}
}

func BenchmarkBeatHTTPDo(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"clientBeatInterval":5000,"code":10200,"lightBeatEnabled":true}`)
	}))
	defer srv.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if code, _, err := httpDo(ctx, "PUT", hostOf(srv), beatPath, beatForm("beat-0001", instanceIP(i), 7000), ""); err != nil || code != 200 {
			b.Fatal(code, err)
		}
	}
}

func TestAppendReregisterFormMatchesEncode(t *testing.T) {
	cases := []struct {
		in       inst
		pass     int64
		metadata string
	}{
		{inst{"dnsc-0000", "127.1.0.1", 8080}, 1, keepAlive},
		{inst{"dnsc-0999", "127.2.78.33", 0}, 2, ""},
		{inst{"odd name&x=y@@z", "::1", 65535}, 7, `{"k":"v w"}`},
	}
	buf := []byte("stale bytes")
	for _, c := range cases {
		buf = appendReregisterForm(buf[:0], c.in, c.pass, c.metadata)
		if got, want := string(buf), reregisterForm(c.in, c.pass, c.metadata).Encode(); got != want {
			t.Errorf("appendReregisterForm(%+v, %d, %q) =\n%s\nwant\n%s", c.in, c.pass, c.metadata, got, want)
		}
	}
}
