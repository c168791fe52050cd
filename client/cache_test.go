package client

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func svcOf(name string, ips ...string) Service {
	s := Service{Name: name, Hosts: []Instance{}}
	for _, ip := range ips {
		s.Hosts = append(s.Hosts, Instance{IP: ip, Port: 80, Weight: 1, Healthy: true, Enabled: true, Ephemeral: true, ClusterName: "DEFAULT"})
	}
	return s
}

func ipsOf(s Service) string {
	var out []string
	for _, h := range s.Hosts {
		out = append(out, h.IP)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func TestHolderOrderEmptyAndSubscribers(t *testing.T) {
	log, _ := testLog()
	h := newHolder(log, false, nil)
	e, _ := h.getOrCreate("DEFAULT_GROUP@@web", "DEFAULT_GROUP@@web", "")
	var mu sync.Mutex
	var seen []string
	e.subs[1] = &subscriber{id: 1, log: log, fn: func(s Service) {
		mu.Lock()
		seen = append(seen, ipsOf(s))
		mu.Unlock()
	}}
	t0 := time.Unix(100, 0)
	steps := []struct {
		svc     Service
		at      time.Time
		changed bool
	}{
		{svcOf("DEFAULT_GROUP@@web", "a"), t0, true},
		{svcOf("DEFAULT_GROUP@@web", "a"), t0.Add(time.Second), false},          // same hosts: no change
		{svcOf("DEFAULT_GROUP@@web", "b", "a"), t0.Add(2 * time.Second), true},  // new host
		{svcOf("DEFAULT_GROUP@@web", "c"), t0.Add(time.Second), false},          // older than held: dropped
		{svcOf("DEFAULT_GROUP@@web"), t0.Add(3 * time.Second), false},           // empty never replaces non-empty
		{svcOf("DEFAULT_GROUP@@web", "a", "b"), t0.Add(4 * time.Second), false}, // order of hosts does not matter
		{svcOf("DEFAULT_GROUP@@web", "d"), t0.Add(5 * time.Second), true},
	}
	for i, st := range steps {
		if got := h.update(e, st.svc, st.at, fromServer); got != st.changed {
			t.Errorf("step %d: changed=%v, want %v", i, got, st.changed)
		}
	}
	waitFor(t, 2*time.Second, "3 deliveries", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == 3 })
	mu.Lock()
	if strings.Join(seen, " ") != "a a,b d" {
		t.Fatalf("subscriber saw %q, want each change once in order", seen)
	}
	mu.Unlock()
	// With UpdateCacheWhenEmpty an empty list is taken.
	h.updateWhenEmpty = true
	if !h.update(e, svcOf("DEFAULT_GROUP@@web"), t0.Add(6*time.Second), fromServer) {
		t.Fatal("empty list not taken with UpdateCacheWhenEmpty")
	}
}

func TestSnapshotWriteIsAtomicAndLoadSkipsBadFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "naming", "public")
	log, logs := testLog()
	s := &snapshots{dir: dir, log: log}
	svc := svcOf("DEFAULT_GROUP@@web", "10.0.0.1")
	for i := 0; i < 3; i++ {
		if err := s.write("DEFAULT_GROUP@@web", &svc); err != nil {
			t.Fatal(err)
		}
	}
	odd := svcOf("g/../x@@we%b", "10.0.0.2")
	if err := s.write("g/../x@@we%b", &odd); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, de := range ents {
		names = append(names, de.Name())
	}
	if !slices.Equal(names, []string{"DEFAULT_GROUP@@web", "g%2F..%2Fx@@we%25b"}) {
		t.Fatalf("files %v: want one per service, no temporary files, no path escape", names)
	}
	// A crash mid-write leaves only a hidden temporary file; bad files are
	// skipped with a log line.
	must := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must(".tmp-123", `{"name":"DEFAULT_GROUP@@ghost","hosts":[]}`)
	must("DEFAULT_GROUP@@truncated", `{"name":"DEFAULT_GROUP@@truncated","hosts":[{"ip":"10.0.`)
	must("DEFAULT_GROUP@@garbage", "\x00\x01not json")
	must("DEFAULT_GROUP@@nameless", `{"hosts":[]}`)
	os.Mkdir(filepath.Join(dir, "failover"), 0o755)
	got := s.load()
	var loaded []string
	for _, g := range got {
		loaded = append(loaded, g.Name+"="+ipsOf(g))
	}
	slices.Sort(loaded)
	if !slices.Equal(loaded, []string{"DEFAULT_GROUP@@web=10.0.0.1", "g/../x@@we%b=10.0.0.2"}) {
		t.Fatalf("loaded %v", loaded)
	}
	for _, bad := range []string{"truncated", "garbage", "nameless"} {
		if logs.count("skipping unreadable snapshot file", bad) != 1 {
			t.Errorf("no log line for %s:\n%s", bad, logs)
		}
	}
}

func TestFailoverSwitchAndFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "failover")
	log, logs := testLog()
	f := newFailoverReader(dir, log)
	if f.read() != nil {
		t.Fatal("failover on without a switch file")
	}
	os.MkdirAll(dir, 0o755)
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("web.json", `{"name":"DEFAULT_GROUP@@web","hosts":[{"ip":"10.9.9.9","port":80}]}`)
	write("broken.json", `{"name":`)
	write(FailoverSwitchFile, "0\n")
	if f.read() != nil {
		t.Fatal("switch 0 read as on")
	}
	write(FailoverSwitchFile, "1\n")
	m := f.read()
	if len(m) != 1 || m["DEFAULT_GROUP@@web"] == nil || m["DEFAULT_GROUP@@web"].Hosts[0].IP != "10.9.9.9" {
		t.Fatalf("failover view %v", m)
	}
	f.read()
	if n := logs.count("skipping unreadable failover file", "broken.json"); n != 1 {
		t.Fatalf("bad failover file logged %d times, want once", n)
	}
	write(FailoverSwitchFile, "yes")
	if f.read() != nil || logs.count("neither 1 nor 0") != 1 {
		t.Fatal("an unclear switch must read as off, with a log line")
	}
}
