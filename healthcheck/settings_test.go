package healthcheck

import (
	"testing"
	"time"

	"sextant/naming"
)

func TestResolveLayers(t *testing.T) {
	cfg := DefaultProbeConfig()
	cfg.Interval = 7 * time.Second

	// Nothing configured: node defaults, TCP on the instance's port.
	var meta naming.ServiceMeta
	r := Resolve(cfg, &meta, "DEFAULT")
	if r.Type != TypeTCP || r.Interval != 7*time.Second || r.Timeout != 500*time.Millisecond ||
		r.UnhealthyThreshold != 1 || r.HealthyThreshold != 1 || !r.UseInstancePort {
		t.Fatalf("defaults: %+v", r)
	}

	// Service metadata overrides the node.
	meta.Metadata = map[string]string{
		naming.MetaCheckInterval:           "3s",
		naming.MetaCheckTimeout:            "250",
		naming.MetaCheckUnhealthyThreshold: "3",
		naming.MetaCheckHealthyThreshold:   " 2 ",
	}
	r = Resolve(cfg, &meta, "DEFAULT")
	if r.Interval != 3*time.Second || r.Timeout != 250*time.Millisecond || r.UnhealthyThreshold != 3 || r.HealthyThreshold != 2 {
		t.Fatalf("metadata: %+v", r)
	}

	// The cluster overrides the service, field by field.
	meta.Clusters = map[string]naming.ClusterConfig{"c1": {
		Name: "c1", HealthChecker: naming.HealthChecker{Type: "HTTP", Path: "/health", Headers: "X-A:1|X-B:2", ExpectedCodes: "2xx,304"},
		CheckPort: 9000, UseInstancePortToCheck: false,
		Check: naming.CheckSettings{IntervalMillis: 1500, UnhealthyThreshold: 5},
	}}
	r = Resolve(cfg, &meta, "c1")
	if r.Type != TypeHTTP || r.Interval != 1500*time.Millisecond || r.Timeout != 250*time.Millisecond ||
		r.UnhealthyThreshold != 5 || r.HealthyThreshold != 2 || r.Path != "/health" || len(r.Headers) != 2 {
		t.Fatalf("cluster: %+v", r)
	}
	if !r.Codes.Match(204) || !r.Codes.Match(304) || r.Codes.Match(301) || r.Codes.Match(500) {
		t.Fatalf("codes %+v", r.Codes)
	}
	in := &naming.Instance{IP: "10.0.0.1", Port: 8080}
	if tg := r.Target(in); tg.Addr != "10.0.0.1:9000" || tg.Type != TypeHTTP || tg.Timeout != 250*time.Millisecond {
		t.Fatalf("target %+v", tg)
	}
	// An HTTP cluster without its own timeout uses the HTTP default.
	delete(meta.Metadata, naming.MetaCheckTimeout)
	if r := Resolve(cfg, &meta, "c1"); r.Timeout != 2*time.Second {
		t.Fatalf("http default timeout %v", r.Timeout)
	}
}

func TestResolveIgnoresBadMetadata(t *testing.T) {
	cfg := DefaultProbeConfig()
	meta := naming.ServiceMeta{Metadata: map[string]string{
		naming.MetaCheckInterval:           "soon",
		naming.MetaCheckTimeout:            "5ms", // below the minimum
		naming.MetaCheckUnhealthyThreshold: "0",
		naming.MetaCheckHealthyThreshold:   "1000",
	}}
	r := Resolve(cfg, &meta, "DEFAULT")
	if r.Interval != cfg.Interval || r.Timeout != cfg.TCPTimeout || r.UnhealthyThreshold != 1 || r.HealthyThreshold != 1 {
		t.Fatalf("bad metadata changed the rules: %+v", r)
	}
}

func TestResolveTypes(t *testing.T) {
	cfg := DefaultProbeConfig()
	for typ, want := range map[string]string{"": TypeTCP, "tcp": TypeTCP, "NONE": TypeNONE, "MYSQL": TypeNONE, "http": TypeHTTP} {
		meta := naming.ServiceMeta{Clusters: map[string]naming.ClusterConfig{"DEFAULT": {Name: "DEFAULT", HealthChecker: naming.HealthChecker{Type: typ}}}}
		if got := Resolve(cfg, &meta, "DEFAULT").Type; got != want {
			t.Errorf("type %q resolved to %q, want %q", typ, got, want)
		}
	}
}

func TestTargetPort(t *testing.T) {
	in := &naming.Instance{IP: "fe80::1", Port: 8080}
	cases := []struct {
		useInstance bool
		checkPort   int
		want        string
	}{
		{true, 9000, "[fe80::1]:8080"},
		{false, 9000, "[fe80::1]:9000"},
		{false, 0, "[fe80::1]:8080"}, // no check port: the instance's
	}
	for _, c := range cases {
		r := Rules{Type: TypeTCP, UseInstancePort: c.useInstance, CheckPort: c.checkPort}
		if got := r.Target(in).Addr; got != c.want {
			t.Errorf("%+v: %s, want %s", c, got, c.want)
		}
	}
}

func TestProbeConfigValidate(t *testing.T) {
	if err := DefaultProbeConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*ProbeConfig){
		"interval":      func(c *ProbeConfig) { c.Interval = time.Millisecond },
		"tcp timeout":   func(c *ProbeConfig) { c.TCPTimeout = 0 },
		"http timeout":  func(c *ProbeConfig) { c.HTTPTimeout = time.Hour },
		"unhealthy":     func(c *ProbeConfig) { c.UnhealthyThreshold = 0 },
		"healthy":       func(c *ProbeConfig) { c.HealthyThreshold = 101 },
		"workers":       func(c *ProbeConfig) { c.Workers = 0 },
		"tick":          func(c *ProbeConfig) { c.Tick = 0 },
		"rescan":        func(c *ProbeConfig) { c.Rescan = time.Millisecond },
		"apply timeout": func(c *ProbeConfig) { c.ApplyTimeout = 0 },
	} {
		c := DefaultProbeConfig()
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted %+v", name, c)
		}
	}
}

// TestResolveRaisesShortIntervals: a service or cluster cannot probe more
// often than MinInterval, unless the node's own interval is shorter.
func TestResolveRaisesShortIntervals(t *testing.T) {
	cfg := DefaultProbeConfig()
	meta := naming.ServiceMeta{Clusters: map[string]naming.ClusterConfig{"c": {Name: "c", Check: naming.CheckSettings{IntervalMillis: 200}}}}
	if r := Resolve(cfg, &meta, "c"); r.Interval != time.Second {
		t.Fatalf("200 ms asked, %v given; want the 1 s floor", r.Interval)
	}
	meta.Metadata = map[string]string{naming.MetaCheckInterval: "100"}
	if r := Resolve(cfg, &meta, "DEFAULT"); r.Interval != time.Second {
		t.Fatalf("100 ms in metadata: %v", r.Interval)
	}
	cfg.Interval = 300 * time.Millisecond
	if r := Resolve(cfg, &meta, "c"); r.Interval != 300*time.Millisecond {
		t.Fatalf("with a node interval of 300 ms: %v", r.Interval)
	}
}
