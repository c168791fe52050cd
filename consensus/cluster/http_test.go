package cluster

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"sextant/naming"
)

// TestHTTPReports runs two memberships over real HTTP on loopback.
func TestHTTPReports(t *testing.T) {
	l1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, b := l1.Addr().String(), l2.Addr().String()
	hcfg := DefaultHTTPConfig()
	hcfg.Secret = "s3cret"
	tr, err := NewHTTPTransport(hcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(self string) *Membership {
		cfg := testConfig()
		cfg.Self, cfg.Members = self, []string{a, b}
		cfg.ReportTimeout = time.Second
		if self == a {
			cfg.Progress = func() uint64 { return 42 }
		}
		m, err := New(cfg, tr, testLog())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	}
	m1, m2 := mk(a), mk(b)
	s1 := &http.Server{Handler: NewHTTPHandler(m1, hcfg)}
	s2 := &http.Server{Handler: NewHTTPHandler(m2, hcfg)}
	go s1.Serve(l1)
	go s2.Serve(l2)
	t.Cleanup(func() { s1.Close() })
	t.Cleanup(func() { s2.Close() })

	if err := m1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// m1's first report reached m2, so m2 sees m1 before its own first round.
	both := []string{a, b}
	slices.Sort(both)
	if !slices.Equal(m1.Live(), both) || !slices.Contains(m2.Live(), a) {
		t.Fatalf("live %v / %v", m1.Live(), m2.Live())
	}
	// Its progress (the Raft leader's commit index, in a node) came along.
	if got := m2.PeerProgress(a); got != 42 {
		t.Fatalf("progress %d reached %s, want 42", got, b)
	}

	// Unsigned, signed with another secret, or carrying the secret in
	// clear (as nodes once did): 401, for reports and the member list.
	for _, c := range []struct {
		name, method, path, secret, clear string
	}{
		{"unsigned report", http.MethodPost, ReportPath, "", ""},
		{"report signed with another secret", http.MethodPost, ReportPath, "other", ""},
		{"report with the secret in clear", http.MethodPost, ReportPath, "", "s3cret"},
		{"unsigned member list", http.MethodGet, MembersPath, "", ""},
		{"member list with the secret in clear", http.MethodGet, MembersPath, "", "s3cret"},
	} {
		req, _ := http.NewRequest(c.method, "http://"+a+c.path, nil)
		SetHeaders(req, c.secret, b, 1, nil)
		if c.clear != "" {
			req.Header.Set("X-Sextant-Secret", c.clear)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: HTTP %d", c.name, resp.StatusCode)
		}
	}
	// Signed by a member: the list.
	req, _ := http.NewRequest(http.MethodGet, "http://"+a+MembersPath, nil)
	SetHeaders(req, "s3cret", b, 1, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signed member list: HTTP %d", resp.StatusCode)
	}
	// A stranger with the secret: 403.
	req, _ = http.NewRequest(http.MethodPost, "http://"+a+ReportPath, nil)
	SetHeaders(req, "s3cret", "10.1.1.1:1", 1, nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("stranger: HTTP %d", resp.StatusCode)
	}

	// m2 goes away: its port refuses, so m1 marks it DOWN at once.
	s2.Close()
	m2.Close()
	waitFor(t, 2*time.Second, func() bool { return stateOf(m1, b) == naming.MemberDown })
	err = tr.Report(context.Background(), b, Report{From: a, Hash: 1})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("report to a closed port: %v", err)
	}
}
