package cluster

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// A node-to-node connection closed while the peer has not taken all that
// was sent (its window full, as on a link that stopped acknowledging)
// resets: the peer never gets the rest, so it cannot act on a request the
// sender gave up on. One whose bytes were all acknowledged closes
// normally, and the peer reads them all.
func TestConnectionClosedWithUnacknowledgedBytesResets(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reading a socket's unacknowledged bytes is implemented on Linux only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dial := dialAborting(&net.Dialer{Timeout: time.Second})
	type got struct {
		n   int64
		err error
	}
	// serve accepts one connection and, once release is closed, reads it
	// to the end.
	serve := func(release <-chan struct{}) chan got {
		out := make(chan got, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				out <- got{err: err}
				return
			}
			defer c.Close()
			<-release
			n, err := io.Copy(io.Discard, c)
			out <- got{n, err}
		}()
		return out
	}

	// The peer reads nothing while the sender fills its window and more.
	release := make(chan struct{})
	res := serve(release)
	c, err := dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(abortingConn); !ok {
		t.Fatalf("dialed a %T, want an abortingConn", c)
	}
	_ = c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	sent, _ := c.Write(make([]byte, 64<<20)) // stops at the deadline, the buffers full
	if left := unacknowledged(c.(abortingConn).TCPConn); left == 0 {
		t.Fatalf("sent %d bytes into a full window, yet none is unacknowledged", sent)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	close(release)
	r := <-res
	if r.n >= int64(sent) {
		t.Fatalf("the peer read all %d bytes sent before the close", sent)
	}
	if !errors.Is(r.err, syscall.ECONNRESET) {
		t.Fatalf("the peer read %d of %d bytes, then %v, want a reset", r.n, sent, r.err)
	}

	// All acknowledged: a normal close, every byte read.
	release = make(chan struct{})
	close(release)
	res = serve(release)
	if c, err = dial(context.Background(), "tcp", ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	msg := []byte("POST /sextant/v1/distro/forward")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for unacknowledged(c.(abortingConn).TCPConn) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.err != nil || r.n != int64(len(msg)) {
		t.Fatalf("acknowledged bytes: the peer read %d of %d, %v", r.n, len(msg), r.err)
	}
}
