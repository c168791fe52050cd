package main

import (
	"net"
	"path/filepath"
	"testing"
	"time"
)

func TestNotifierSendsToSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	n := newNotifier()
	if err := n.send("READY=1"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	k, err := conn.Read(buf)
	if err != nil || string(buf[:k]) != "READY=1" {
		t.Fatalf("got %q, %v", buf[:k], err)
	}
}

func TestNotifierWithoutSystemdIsSilent(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if err := newNotifier().send("READY=1"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WATCHDOG_USEC", "")
	if watchdogInterval() != 0 {
		t.Fatal("watchdog on without WATCHDOG_USEC")
	}
	t.Setenv("WATCHDOG_USEC", "10000000")
	t.Setenv("WATCHDOG_PID", "1")
	if watchdogInterval() != 0 {
		t.Fatal("watchdog meant for another pid")
	}
	t.Setenv("WATCHDOG_PID", "")
	if watchdogInterval() != 5*time.Second {
		t.Fatalf("interval %v", watchdogInterval())
	}
}
