package raftcp

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func listenStream(t *testing.T, secret string) *authStream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newAuthStream(ln, ln.Addr(), secret, nil)
	t.Cleanup(func() { s.Close() })
	return s
}

// accepted returns the next connection Accept gives within d, or nil.
func accepted(s *authStream, d time.Duration) net.Conn {
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := s.Accept()
		if err == nil {
			ch <- c
		}
	}()
	select {
	case c := <-ch:
		return c
	case <-time.After(d):
		return nil
	}
}

func TestAuthStreamAcceptsOnlyTheSecret(t *testing.T) {
	srv := listenStream(t, "the-cluster-secret")
	addr := raft.ServerAddress(srv.Addr().String())

	good := listenStream(t, "the-cluster-secret")
	c, err := good.Dial(addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in := accepted(srv, 2*time.Second)
	if in == nil {
		t.Fatal("a peer with the secret was not accepted")
	}
	defer in.Close()
	if _, err := c.Write([]byte("raft")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(in, buf); err != nil || !bytes.Equal(buf, []byte("raft")) {
		t.Fatalf("bytes after the handshake: %q %v", buf, err)
	}

	// A wrong secret: the listener closes the connection, Accept never
	// hands it to Raft, and the dial fails.
	bad := listenStream(t, "another-secret-entirely")
	if c2, err := bad.Dial(addr, time.Second); err == nil {
		c2.Close()
		t.Fatal("a dial with the wrong secret succeeded")
	}
	if accepted(srv, 200*time.Millisecond) != nil {
		t.Fatal("a connection with the wrong secret reached Raft")
	}

	// A plain client that starts talking at once is dropped too.
	raw, err := net.Dial("tcp", string(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_, _ = raw.Write(bytes.Repeat([]byte{0}, 64))
	_ = raw.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _ = io.ReadFull(raw, make([]byte, len(handshakeMagic)+nonceLen))
	if _, err := raw.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection without the answer left open")
	}
	if accepted(srv, 200*time.Millisecond) != nil {
		t.Fatal("an unauthenticated connection reached Raft")
	}
}

// TestClusterOverAuthenticatedTCP runs a three-node group over TCP with
// the cluster secret and checks that it elects a leader and replicates.
func TestClusterOverAuthenticatedTCP(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3, tcp: true, mutate: func(cfg *Config) { cfg.Secret = "the-cluster-secret" }})
	c.mustApply(regOp(1))
	c.converged(10*time.Second, c.leader(10*time.Second))
}

// TestAuthStreamDialerChecksTheListener: the handshake is mutual, so a
// node does not talk Raft to a listener that answers a challenge without
// the secret (an impostor on a member's port).
func TestAuthStreamDialerChecksTheListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// The impostor sends a challenge and, lacking the secret, an
		// answer of its own making.
		_, _ = c.Write(append([]byte(handshakeMagic), bytes.Repeat([]byte{1}, nonceLen)...))
		_, _ = io.ReadFull(c, make([]byte, 64))
		_, _ = c.Write(bytes.Repeat([]byte{2}, 32))
		_, _ = io.ReadAll(c)
	}()
	d := listenStream(t, "the-cluster-secret")
	if c, err := d.Dial(raft.ServerAddress(ln.Addr().String()), time.Second); err == nil {
		c.Close()
		t.Fatal("dialed an impostor without noticing")
	}
}

// TestAuthStreamAdmitsOnlyMembers: a connection from an address that is
// not a member's is closed before the challenge is sent.
func TestAuthStreamAdmitsOnlyMembers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newAuthStream(ln, ln.Addr(), "the-cluster-secret", newSources([]string{"127.0.0.2:7848"}))
	defer s.Close()
	for _, from := range []string{"127.0.0.3", "127.0.0.2"} {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: time.Second}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _ := io.ReadFull(c, make([]byte, len(handshakeMagic)))
		c.Close()
		if member := from == "127.0.0.2"; (n == len(handshakeMagic)) != member {
			t.Errorf("from %s: challenge of %d bytes sent", from, n)
		}
	}
}
