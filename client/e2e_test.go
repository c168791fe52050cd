package client

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests run against real `sextant server` processes on loopback.

// TestRetryWhenServersGoDown points the client at three standalone nodes
// and kills them one after another: every request succeeds while one node
// lives, and fails with one error naming every server when none does.
func TestRetryWhenServersGoDown(t *testing.T) {
	nodes := []*server{startServer(t), startServer(t), startServer(t)}
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.addr)
		n.register(t, "web", "10.0.0.1", 80, nil)
	}
	cfg := testConfig(t, addrs...)
	cfg.TimeoutMs = 1000
	c, _ := newClient(t, cfg)
	port := 1000
	registerSome := func(live ...*server) {
		t.Helper()
		for i := 0; i < 6; i++ {
			port++
			p := RegisterParam{ServiceName: "api", IP: "10.0.1.1", Port: port, Persistent: true}
			if err := c.RegisterInstance(t.Context(), p); err != nil {
				t.Fatalf("register with %d node(s) up: %v", len(live), err)
			}
			found := false
			for _, n := range live {
				code, body := n.do(http.MethodGet, "/nacos/v1/ns/instance", map[string][]string{"serviceName": {"api"}, "ip": {"10.0.1.1"}, "port": {itoa(port)}})
				if code == 200 && strings.Contains(body, itoa(port)) {
					found = true
				}
			}
			if !found {
				t.Fatalf("port %d registered on no live node", port)
			}
		}
		// Reads go through a fresh client each time, so they reach a server.
		rc, _ := newClient(t, cfg)
		hosts, err := rc.SelectAllInstances(t.Context(), ServiceRef{ServiceName: "web"})
		if err != nil || len(hosts) != 1 || hosts[0].IP != "10.0.0.1" {
			t.Fatalf("read with %d node(s) up: %v %v", len(live), hosts, err)
		}
		rc.Close()
	}
	registerSome(nodes...)
	nodes[0].kill()
	registerSome(nodes[1:]...)
	nodes[1].kill()
	start := time.Now()
	registerSome(nodes[2])
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("requests with two nodes down took %v", d)
	}
	nodes[2].kill()
	err := c.RegisterInstance(t.Context(), RegisterParam{ServiceName: "api", IP: "10.0.1.1", Port: 1, Persistent: true})
	var re *RequestError
	if !errors.As(err, &re) || !errors.Is(err, ErrAllServersFailed) || len(re.Attempts) != 3 {
		t.Fatalf("all down: %v", err)
	}
	for _, a := range addrs {
		if !strings.Contains(err.Error(), a) {
			t.Errorf("error does not name %s: %v", a, err)
		}
	}
}

// TestBeatsRecreateInstanceAfterServerRestart: the server is killed and
// started again on the same port and data dir, losing its ephemeral
// instances; the next full beat brings the instance back.
func TestBeatsRecreateInstanceAfterServerRestart(t *testing.T) {
	s := startServer(t)
	cfg := testConfig(t, s.addr)
	cfg.TimeoutMs = 500
	c, _ := newClient(t, cfg)
	reg := RegisterParam{ServiceName: "beaty", IP: "10.0.0.7", Port: 8080, Metadata: map[string]string{metaBeatInterval: "200"}}
	if err := c.RegisterInstance(t.Context(), reg); err != nil {
		t.Fatal(err)
	}
	keeper := reg
	keeper.IP = "10.0.0.8"
	if err := c.RegisterInstance(t.Context(), keeper); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "a few beats", func() bool { return c.Stats().Beats >= 4 })
	s.kill()
	waitFor(t, 3*time.Second, "a failed beat", func() bool { return c.Stats().BeatFailures >= 1 })
	s.start()
	waitFor(t, 5*time.Second, "both instances back after restart", func() bool {
		return slices.Equal(s.hosts("beaty"), []string{"10.0.0.7", "10.0.0.8"})
	})
	// Deregistration stops that instance's beats: it stays gone while the
	// other one keeps beating.
	if err := c.DeregisterInstance(t.Context(), DeregisterParam{ServiceName: "beaty", IP: "10.0.0.7", Port: 8080}); err != nil {
		t.Fatal(err)
	}
	beats := c.Stats().Beats
	waitFor(t, 3*time.Second, "four more beats of the other instance", func() bool { return c.Stats().Beats >= beats+4 })
	if got := s.hosts("beaty"); !slices.Equal(got, []string{"10.0.0.8"}) {
		t.Fatalf("after deregister: %v", got)
	}
}

// subscribeLog subscribes and records what the callback sees.
type subscribeLog struct {
	mu   sync.Mutex
	seen []string
	at   []time.Time
}

func (l *subscribeLog) fn(s Service) {
	l.mu.Lock()
	l.seen = append(l.seen, ipsOf(s))
	l.at = append(l.at, time.Now())
	l.mu.Unlock()
}

func (l *subscribeLog) last() (string, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) == 0 {
		return "", time.Time{}
	}
	return l.seen[len(l.seen)-1], l.at[len(l.at)-1]
}

func (l *subscribeLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.seen)
}

// TestSubscriptionByPushAndByPoll: a change on the server reaches the
// subscriber by UDP push (well before the 10 s poll the server asks of a
// push subscriber), and with push off by polling at cacheMillis (3 s).
func TestSubscriptionByPushAndByPoll(t *testing.T) {
	s := startServer(t)
	s.register(t, "sub", "10.0.0.1", 80, nil)
	for _, push := range []bool{true, false} {
		name := map[bool]string{true: "push", false: "poll"}[push]
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t, s.addr)
			cfg.PushDisabled = !push
			c, _ := newClient(t, cfg)
			var l subscribeLog
			cancel, err := c.Subscribe(ServiceRef{ServiceName: "sub"}, l.fn)
			if err != nil {
				t.Fatal(err)
			}
			defer cancel()
			waitFor(t, 3*time.Second, "the first list", func() bool { v, _ := l.last(); return v != "" })
			ip := map[bool]string{true: "10.0.0.2", false: "10.0.0.3"}[push]
			start := time.Now()
			s.register(t, "sub", ip, 80, nil)
			waitFor(t, 6*time.Second, "the change", func() bool { v, _ := l.last(); return strings.Contains(v, ip) })
			_, at := l.last()
			t.Logf("change seen by %s after %v", name, at.Sub(start).Round(time.Millisecond))
			st := c.Stats()
			if push && st.PushesApplied == 0 {
				t.Fatalf("push subscription saw the change without a push: %+v", st)
			}
			if !push && (st.PushesReceived != 0 || st.PushPort != 0) {
				t.Fatalf("push off but pushes received: %+v", st)
			}
			// Each change once, in order: no repeats in what was seen.
			seen := l.all()
			for i := 1; i < len(seen); i++ {
				if seen[i] == seen[i-1] {
					t.Fatalf("a view was delivered twice: %v", seen)
				}
			}
			s.deregister(t, "sub", ip, 80)
		})
	}
}

// TestSnapshotServesWhileServersAreDown: a client with snapshots on writes
// one per service; a later client with LoadCacheAtStart and no live server
// serves it at once, skipping a corrupt file with a log line.
func TestSnapshotServesWhileServersAreDown(t *testing.T) {
	s := startServer(t)
	s.register(t, "snap", "10.0.0.1", 80, map[string][]string{"weight": {"0.3"}})
	s.register(t, "snap", "10.0.0.2", 80, map[string][]string{"weight": {"0.7"}})
	cfg := testConfig(t, s.addr)
	cfg.SnapshotEnabled = true
	c1, _ := newClient(t, cfg)
	if _, err := c1.SelectOneHealthyInstance(t.Context(), ServiceRef{ServiceName: "snap"}); err != nil {
		t.Fatalf("fractional weights: %v", err)
	}
	file := filepath.Join(c1.CacheDir(), "DEFAULT_GROUP@@snap")
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("no snapshot file: %v", err)
	}
	c1.Close()
	s.kill()
	os.WriteFile(filepath.Join(c1.CacheDir(), "DEFAULT_GROUP@@cut"), []byte(`{"name":"DEFAULT_GROUP@@cut","hosts":[{"ip":"10.`), 0o644)

	cfg.LoadCacheAtStart = true
	c2, logs := newClient(t, cfg)
	if logs.count("skipping unreadable snapshot file", "DEFAULT_GROUP@@cut") != 1 {
		t.Fatalf("corrupt snapshot not logged:\n%s", logs)
	}
	svc, ok := c2.Peek(ServiceRef{ServiceName: "snap"})
	if !ok || ipsOf(svc) != "10.0.0.1,10.0.0.2" {
		t.Fatalf("snapshot not served at start: %v %v", svc, ok)
	}
	hosts, err := c2.SelectInstances(t.Context(), ServiceRef{ServiceName: "snap"}, true)
	if err != nil || len(hosts) != 2 {
		t.Fatalf("select from snapshot: %v %v", hosts, err)
	}
	// Without LoadCacheAtStart a dead server is an error, not old data.
	cfg.LoadCacheAtStart = false
	c3, _ := newClient(t, cfg)
	if _, err := c3.GetService(t.Context(), ServiceRef{ServiceName: "snap"}); !errors.Is(err, ErrAllServersFailed) {
		t.Fatalf("without the snapshot: %v", err)
	}
}

// TestFailoverSwitchOverridesServers: with the switch on, reads and
// subscribers get the hand-edited failover file; off, the servers again.
func TestFailoverSwitchOverridesServers(t *testing.T) {
	s := startServer(t)
	s.register(t, "fo", "10.0.0.1", 80, nil)
	cfg := testConfig(t, s.addr)
	c, _ := newClient(t, cfg)
	var l subscribeLog
	cancel, _ := c.Subscribe(ServiceRef{ServiceName: "fo"}, l.fn)
	defer cancel()
	waitFor(t, 3*time.Second, "the server's list", func() bool { v, _ := l.last(); return v == "10.0.0.1" })
	dir := filepath.Join(c.CacheDir(), FailoverDir)
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "fo.json"), []byte(`{"name":"fo","hosts":[{"ip":"10.9.9.9","port":80}]}`), 0o644)
	os.WriteFile(filepath.Join(dir, FailoverSwitchFile), []byte("1\n"), 0o644)
	waitFor(t, 3*time.Second, "the failover list", func() bool { v, _ := l.last(); return v == "10.9.9.9" })
	in, err := c.SelectOneHealthyInstance(t.Context(), ServiceRef{ServiceName: "fo"})
	if err != nil || in.IP != "10.9.9.9" {
		t.Fatalf("read during failover: %v %v", in, err)
	}
	// A service without a failover file still reads from the servers.
	s.register(t, "other", "10.0.0.5", 80, nil)
	if hosts, err := c.SelectAllInstances(t.Context(), ServiceRef{ServiceName: "other"}); err != nil || len(hosts) != 1 {
		t.Fatalf("other service during failover: %v %v", hosts, err)
	}
	os.WriteFile(filepath.Join(dir, FailoverSwitchFile), []byte("0\n"), 0o644)
	waitFor(t, 3*time.Second, "the server's list again", func() bool { v, _ := l.last(); return v == "10.0.0.1" })
	if got := l.all(); !slices.Equal(got, []string{"10.0.0.1", "10.9.9.9", "10.0.0.1"}) {
		t.Fatalf("subscriber saw %v", got)
	}
}

// TestEndpointServerList reads the server list from an address server.
func TestEndpointServerList(t *testing.T) {
	s := startServer(t)
	s.register(t, "ep", "10.0.0.1", 80, nil)
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/nacos/serverlist" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(s.addr + "\n"))
	}))
	defer as.Close()
	cfg := testConfig(t)
	cfg.Endpoint = host(as)
	c, _ := newClient(t, cfg)
	waitFor(t, 3*time.Second, "the server list", func() bool { return len(c.Servers()) == 1 })
	if hosts, err := c.SelectAllInstances(t.Context(), ServiceRef{ServiceName: "ep"}); err != nil || len(hosts) != 1 {
		t.Fatalf("via endpoint: %v %v", hosts, err)
	}
}

// TestRegisterUpdateDeregister covers the instance calls against a server,
// and bad input that never reaches it.
func TestRegisterUpdateDeregister(t *testing.T) {
	s := startServer(t)
	c, _ := newClient(t, testConfig(t, s.addr))
	ctx := t.Context()
	reg := RegisterParam{ServiceName: "inst", GroupName: "g1", ClusterName: "c1", IP: "10.0.0.1", Port: 80,
		Weight: 0.5, Metadata: map[string]string{"zone": "a"}}
	if err := c.RegisterInstance(ctx, reg); err != nil {
		t.Fatal(err)
	}
	detail := func() string {
		_, body := s.do(http.MethodGet, "/nacos/v1/ns/instance", map[string][]string{
			"serviceName": {"g1@@inst"}, "ip": {"10.0.0.1"}, "port": {"80"}, "clusterName": {"c1"}})
		return body
	}
	if d := detail(); !strings.Contains(d, `"weight":0.5`) || !strings.Contains(d, `"zone":"a"`) {
		t.Fatalf("registered: %s", d)
	}
	reg.Weight, reg.Metadata = 3, map[string]string{"zone": "b"}
	if err := c.UpdateInstance(ctx, reg); err != nil {
		t.Fatal(err)
	}
	if d := detail(); !strings.Contains(d, `"weight":3`) || !strings.Contains(d, `"zone":"b"`) {
		t.Fatalf("updated: %s", d)
	}
	if err := c.DeregisterInstance(ctx, DeregisterParam{ServiceName: "inst", GroupName: "g1", ClusterName: "c1", IP: "10.0.0.1", Port: 80}); err != nil {
		t.Fatal(err)
	}
	if code, _ := s.do(http.MethodGet, "/nacos/v1/ns/instance", map[string][]string{
		"serviceName": {"g1@@inst"}, "ip": {"10.0.0.1"}, "port": {"80"}, "clusterName": {"c1"}}); code == 200 {
		t.Fatal("instance still there after deregister")
	}
	for name, bad := range map[string]RegisterParam{
		"ip":      {ServiceName: "inst", IP: "10.0.0", Port: 80},
		"port":    {ServiceName: "inst", IP: "10.0.0.1", Port: 70000},
		"weight":  {ServiceName: "inst", IP: "10.0.0.1", Port: 80, Weight: 20000},
		"name":    {IP: "10.0.0.1", Port: 80},
		"grouped": {ServiceName: "a@@b@@c", IP: "10.0.0.1", Port: 80},
	} {
		if err := c.RegisterInstance(ctx, bad); err == nil || errors.Is(err, ErrAllServersFailed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A server's 400 comes back as a StatusError, at once.
	err := c.UpdateInstance(ctx, RegisterParam{ServiceName: "inst", IP: "10.0.0.9", Port: 1})
	var se *StatusError
	if !errors.As(err, &se) || !se.ClientFault() {
		t.Fatalf("update of a missing instance: %v", err)
	}
}
