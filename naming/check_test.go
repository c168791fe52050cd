package naming

import (
	"errors"
	"testing"
	"time"
)

func TestParseStatusCodes(t *testing.T) {
	cases := []struct {
		in       string
		match    []int
		no       []int
		bad      bool
		describe string
	}{
		{in: "", match: []int{200}, no: []int{204, 302, 500}, describe: "blank is 200, as Nacos"},
		{in: "200", match: []int{200}, no: []int{201}},
		{in: "200, 204", match: []int{200, 204}, no: []int{203}},
		{in: "2xx", match: []int{200, 250, 299}, no: []int{199, 300}},
		{in: "2XX,302", match: []int{204, 302}, no: []int{301}},
		{in: "200-299", match: []int{200, 299}, no: []int{300}},
		{in: "ok", bad: true},
		{in: "600", bad: true},
		{in: "99", bad: true},
		{in: "0xx", bad: true},
		{in: "299-200", bad: true},
		{in: "200,", bad: true},
	}
	for _, c := range cases {
		got, err := ParseStatusCodes(c.in)
		if c.bad {
			if err == nil || !errors.Is(err, ErrInvalid) {
				t.Errorf("%q: accepted (%v)", c.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		for _, code := range c.match {
			if !got.Match(code) {
				t.Errorf("%q does not match %d", c.in, code)
			}
		}
		for _, code := range c.no {
			if got.Match(code) {
				t.Errorf("%q matches %d", c.in, code)
			}
		}
	}
}

func TestParseCheckHeaders(t *testing.T) {
	got, err := ParseCheckHeaders("X-A: 1|X-Env:prod||Accept:a:b")
	if err != nil {
		t.Fatal(err)
	}
	want := []CheckHeader{{"X-A", "1"}, {"X-Env", "prod"}, {"Accept", "a:b"}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("header %d: %v, want %v", i, got[i], want[i])
		}
	}
	if h, err := ParseCheckHeaders(""); err != nil || len(h) != 0 {
		t.Fatalf("blank: %v %v", h, err)
	}
	for _, bad := range []string{"novalue", ":v", "a b:c", "x:\x01"} {
		if _, err := ParseCheckHeaders(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// A new check never poses as another host or carries credentials;
	// stored ones still parse.
	for _, bad := range []string{"Host:svc.local", "X-A:1|authorization:Basic a:b", "Proxy-Authorization:x", "novalue"} {
		if err := CheckNoReservedHeaders(bad); err == nil {
			t.Errorf("%q accepted for a new check", bad)
		}
	}
	if h, err := ParseCheckHeaders("Host:svc.local"); err != nil || len(h) != 1 {
		t.Errorf("a stored Host header no longer parses: %v %v", h, err)
	}
	if err := CheckNoReservedHeaders("X-A:1|Accept:*/*"); err != nil {
		t.Error(err)
	}
}

func TestParseCheckDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"5000": 5 * time.Second, " 250 ": 250 * time.Millisecond, "1m30s": 90 * time.Second, "0": 0} {
		if got, err := ParseCheckDuration(in); err != nil || got != want {
			t.Errorf("%q = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "soon", "-5", "-1s", "99999999999999"} {
		if _, err := ParseCheckDuration(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestClusterCheckSettingsValidated(t *testing.T) {
	c := NewCatalog()
	k := NewServiceKey("", "", "svc")
	if err := c.Apply(Op{Kind: OpCreateService, Time: 1, Service: k, Meta: &ServiceMeta{}}); err != nil {
		t.Fatal(err)
	}
	ok := ClusterConfig{Name: "DEFAULT", HealthChecker: HealthChecker{Type: "HTTP", Path: "/h", Headers: "A:1", ExpectedCodes: "2xx"},
		Check: CheckSettings{IntervalMillis: 5000, TimeoutMillis: 100, UnhealthyThreshold: 3, HealthyThreshold: 2}}
	if err := c.Apply(Op{Kind: OpUpdateCluster, Time: 2, Service: k, Cluster: &ok}); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*ClusterConfig){
		"interval":  func(cc *ClusterConfig) { cc.Check.IntervalMillis = 50 },
		"timeout":   func(cc *ClusterConfig) { cc.Check.TimeoutMillis = -1 },
		"unhealthy": func(cc *ClusterConfig) { cc.Check.UnhealthyThreshold = 101 },
		"healthy":   func(cc *ClusterConfig) { cc.Check.HealthyThreshold = -2 },
		"codes":     func(cc *ClusterConfig) { cc.HealthChecker.ExpectedCodes = "fine" },
		"headers":   func(cc *ClusterConfig) { cc.HealthChecker.Headers = "x" },
		"path":      func(cc *ClusterConfig) { cc.HealthChecker.Path = "/a\nb" },
	} {
		bad := ok
		mut(&bad)
		if err := c.Apply(Op{Kind: OpUpdateCluster, Time: 3, Service: k, Cluster: &bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	s, _ := c.Service(k)
	if got := s.Meta.Cluster("DEFAULT"); got.Check != ok.Check || got.HealthChecker != ok.HealthChecker {
		t.Fatalf("rejected ops changed the cluster: %+v", got)
	}
	// A TCP checker ignores the HTTP fields, as before.
	tcp := ClusterConfig{Name: "c2", HealthChecker: HealthChecker{Type: "TCP", ExpectedCodes: "anything"}}
	if err := c.Apply(Op{Kind: OpUpdateCluster, Time: 4, Service: k, Cluster: &tcp}); err != nil {
		t.Fatal(err)
	}
}
