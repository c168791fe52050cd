package cluster

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestFileChangePickedUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cluster.conf")
	writeFile(t, path, "# two nodes\n10.0.0.1\n10.0.0.2\n")
	cfg := testConfig()
	cfg.Self, cfg.File = "10.0.0.1:8848", path
	ft := newFakeTransport()
	m, err := New(cfg, ft, testLog())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ft.back = m
	changes := make(chan struct{}, 16)
	m.Watch(func() { changes <- struct{}{} })
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := m.Live(); !slices.Equal(got, []string{"10.0.0.1:8848", "10.0.0.2:8848"}) {
		t.Fatalf("live %v", got)
	}

	writeFile(t, path, "10.0.0.1\n10.0.0.2\n10.0.0.3:9000 # new\n")
	waitFor(t, 3*time.Second, func() bool { return slices.Contains(m.Live(), "10.0.0.3:9000") })

	// A bad file changes nothing.
	writeFile(t, path, "10.0.0.1\n10.0.0.2:bad\n")
	if err := m.Reload(); err == nil {
		t.Fatal("bad file accepted")
	}
	if len(m.Members()) != 3 {
		t.Fatalf("members after bad file: %+v", m.Members())
	}
	// A file without this node changes nothing either.
	writeFile(t, path, "10.0.0.2\n")
	if err := m.Reload(); err == nil {
		t.Fatal("file without self accepted")
	}
	if len(m.Members()) != 3 {
		t.Fatalf("members after file without self: %+v", m.Members())
	}
	// Removing a member drops it.
	writeFile(t, path, "10.0.0.1\n10.0.0.3:9000\n")
	waitFor(t, 3*time.Second, func() bool { return len(m.Members()) == 2 })
	if got := m.Live(); !slices.Equal(got, []string{"10.0.0.1:8848", "10.0.0.3:9000"}) {
		t.Fatalf("live %v", got)
	}
	if len(changes) == 0 {
		t.Error("watchers never told of list changes")
	}
}

func TestMissingFile(t *testing.T) {
	cfg := testConfig()
	cfg.Self, cfg.File = "10.0.0.1:8848", filepath.Join(t.TempDir(), "none.conf")
	if _, err := New(cfg, newFakeTransport(), nil); err == nil {
		t.Fatal("missing file accepted")
	}
}
