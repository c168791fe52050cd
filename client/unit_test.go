package client

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestServerListRotatesFromRandomStart(t *testing.T) {
	l := newServerList([]string{"a", "b", "c"}, time.Minute)
	for start, want := range [][]string{{"a", "b", "c"}, {"b", "c", "a"}, {"c", "a", "b"}} {
		l.intn = func(int) int { return start }
		if got := l.order(); !slices.Equal(got, want) {
			t.Errorf("start %d: order %v, want %v", start, got, want)
		}
	}
}

func TestServerListCooldown(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newServerList([]string{"a", "b", "c"}, 30*time.Second)
	l.now = func() time.Time { return now }
	l.intn = func(int) int { return 0 }
	l.fail("b")
	now = now.Add(time.Second)
	l.fail("a")
	// Failed servers go last, the one failed longest ago first.
	if got := l.order(); !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Fatalf("order %v, want [c b a]", got)
	}
	// A success ends the cool-down at once.
	l.ok("a")
	if got := l.order(); !slices.Equal(got, []string{"a", "c", "b"}) {
		t.Fatalf("after ok: %v, want [a c b]", got)
	}
	// The cool-down ends by itself.
	now = now.Add(30 * time.Second)
	if got := l.order(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("after cool-down: %v, want [a b c]", got)
	}
	// Replacing the list keeps failures of servers that stay.
	l.fail("c")
	l.set([]string{"c", "d", "c"})
	if got := l.order(); !slices.Equal(got, []string{"d", "c"}) {
		t.Fatalf("after set: %v, want [d c]", got)
	}
}

func TestPickWeighted(t *testing.T) {
	hosts := []Instance{{IP: "a", Weight: 0.2}, {IP: "zero", Weight: 0}, {IP: "b", Weight: 0.6}, {IP: "nan", Weight: math.NaN()}}
	counts := map[string]int{}
	const n = 1000
	for i := 0; i < n; i++ {
		in, ok := pickWeighted(hosts, float64(i)/n)
		if !ok {
			t.Fatal("no pick among positive weights")
		}
		counts[in.IP]++
	}
	// Weights 0.2 : 0.6 give a quarter and three quarters of an even sweep.
	if counts["a"] != 250 || counts["b"] != 750 || counts["zero"] != 0 || counts["nan"] != 0 {
		t.Fatalf("picks %v, want a=250 b=750", counts)
	}
	if in, ok := pickWeighted(hosts, 0.9999999999); !ok || in.IP != "b" {
		t.Fatalf("top of the range picked %v", in)
	}
	if _, ok := pickWeighted([]Instance{{IP: "x", Weight: 0}}, 0.5); ok {
		t.Fatal("picked an instance of weight 0")
	}
	if _, ok := pickWeighted(nil, 0.5); ok {
		t.Fatal("picked from nothing")
	}
}

func TestRefKey(t *testing.T) {
	cases := []struct {
		ref                    ServiceRef
		key, grouped, clusters string
	}{
		{ServiceRef{ServiceName: "web"}, "DEFAULT_GROUP@@web", "DEFAULT_GROUP@@web", ""},
		{ServiceRef{ServiceName: "g@@web"}, "g@@web", "g@@web", ""},
		{ServiceRef{ServiceName: "web", GroupName: "g", Clusters: []string{"b", " a"}}, "g@@web@@a,b", "g@@web", "a,b"},
	}
	for _, c := range cases {
		key, grouped, clusters, err := c.ref.key()
		if err != nil || key != c.key || grouped != c.grouped || clusters != c.clusters {
			t.Errorf("%+v: %q %q %q %v", c.ref, key, grouped, clusters, err)
		}
		if back := refOfKey(key); back.GroupName+"@@"+back.ServiceName != c.grouped {
			t.Errorf("refOfKey(%q) = %+v", key, back)
		}
	}
	for _, bad := range []ServiceRef{{}, {ServiceName: "a@@b@@c"}, {ServiceName: "x/y"}, {ServiceName: "w", Clusters: []string{"a,b"}}} {
		if _, _, _, err := bad.key(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestInstanceJSONDefaults(t *testing.T) {
	svc, err := parseService([]byte(`{"name":"web","groupName":"g","hosts":[{"ip":"10.0.0.1","port":80},
		{"ip":"10.0.0.2","port":80,"healthy":false,"enabled":false,"weight":0.5,"ephemeral":false,"clusterName":"c"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if svc.Name != "g@@web" {
		t.Errorf("name %q", svc.Name)
	}
	a, b := svc.Hosts[0], svc.Hosts[1]
	if !a.Healthy || !a.Enabled || a.Weight != 1 || !a.Ephemeral || a.ClusterName != DefaultCluster {
		t.Errorf("defaults not applied: %+v", a)
	}
	if b.Healthy || b.Enabled || b.Weight != 0.5 || b.Ephemeral || b.ClusterName != "c" {
		t.Errorf("given values not kept: %+v", b)
	}
	for _, bad := range []string{`{"hosts":[]}`, `{"name":"x","hosts":[{"ip":1}]}`, `{"name":"x"`, `[]`} {
		if _, err := parseService([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestParseServerList(t *testing.T) {
	got, err := parseServerList([]byte("10.0.0.1:8848\n\n# comment\n10.0.0.2\r\n10.0.0.1:8848\n[::1]:9000\n"))
	if err != nil || !slices.Equal(got, []string{"10.0.0.1:8848", "10.0.0.2:8848", "[::1]:9000"}) {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := parseServerList([]byte("http://x:1\n")); err == nil {
		t.Fatal("a URL was accepted as a server")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err == nil {
		t.Error("a config without servers passed")
	}
	good := DefaultConfig()
	good.ServerAddrs = []string{"127.0.0.1:8848", "localhost"}
	if err := good.Validate(); err != nil {
		t.Errorf("good config: %v", err)
	}
	for name, change := range map[string]func(*Config){
		"bad server":    func(c *Config) { c.ServerAddrs = []string{"http://x"} },
		"bad port":      func(c *Config) { c.ServerAddrs = []string{"x:99999"} },
		"timeout":       func(c *Config) { c.TimeoutMs = 0 },
		"scheme":        func(c *Config) { c.Scheme = "ftp" },
		"threads":       func(c *Config) { c.UpdateThreadNum = 0 },
		"client ip":     func(c *Config) { c.ClientIP = "nope" },
		"namespace":     func(c *Config) { c.NamespaceId = "a/b" },
		"push addr":     func(c *Config) { c.PushAddr = "nope" },
		"no cache dir":  func(c *Config) { c.CacheDir = "" },
		"context path":  func(c *Config) { c.ContextPath = "nacos" },
		"beat interval": func(c *Config) { c.BeatInterval = -1 },
	} {
		c := good
		change(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
