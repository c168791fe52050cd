package main

import (
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// TestClusterMemberNeedsAClusterSecret: a member of a cluster of several
// refuses to start without cluster-secret, and says how to make one.
func TestClusterMemberNeedsAClusterSecret(t *testing.T) {
	out, err := exec.Command(sextantBinary(t), "server", "--members", "127.0.0.1:18848,127.0.0.1:18849",
		"--http-addr", "127.0.0.1:18848", "--data-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cluster-secret is required") || !strings.Contains(string(out), "/dev/urandom") {
		t.Fatalf("exit %v, output %s", err, out)
	}
}

// zeros reads as zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestInternalPathsRefuseUnsignedRequests runs the attacks of issue 16 on
// the node-to-node paths of a real cluster with auth on: creating an
// administrator through the Raft apply path, reading the Distro snapshot
// and the member list, with no signature or with the secret in clear, are
// all refused; and unsigned 60 MiB bodies are refused before they are
// read, so the member's memory stays flat.
func TestInternalPathsRefuseUnsignedRequests(t *testing.T) {
	ps := startClusterN(t, 2, "--auth-enabled", "--auth-token-secret", strings.Repeat("k", 40), "--auth-admin-password", "admin-pass-1")
	p := ps[1]
	base := "http://" + p.httpAddr
	attacks := []struct{ method, path, body string }{
		{"POST", "/sextant/v1/raft/apply", `{"kind":16,"user":{"username":"mallory","password":"mallory-pass"}}`},
		{"POST", "/sextant/v1/raft/apply", `{"kind":19,"roleBinding":{"role":"ROLE_ADMIN","username":"mallory"}}`},
		{"GET", "/sextant/v1/distro/snapshot", ""},
		{"GET", "/sextant/v1/cluster/members", ""},
		{"POST", "/sextant/v1/distro/sync", `{"records":[]}`},
	}
	for _, clear := range []string{"", "test-secret"} {
		for _, a := range attacks {
			req, _ := http.NewRequest(a.method, base+a.path, strings.NewReader(a.body))
			req.Header.Set("X-Sextant-From", ps[0].httpAddr)
			if clear != "" {
				req.Header.Set("X-Sextant-Secret", clear)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s (secret in clear %q): %d %s, want 401", a.method, a.path, clear, resp.StatusCode, b)
			}
		}
	}
	code, body := p.do("POST", "/nacos/v1/auth/users/login", map[string][]string{"username": {"mallory"}, "password": {"mallory-pass"}})
	if code == 200 {
		t.Fatalf("the user made through the apply path logs in: %s", body)
	}

	// Nine unsigned 60 MiB bodies at once, three times.
	before := rssKiB(p.cmd.Process.Pid)
	for range 3 {
		var wg sync.WaitGroup
		for range 9 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", base+"/sextant/v1/distro/sync", io.LimitReader(zeros{}, 60<<20))
				req.ContentLength = 60 << 20
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the node may close the connection while the body is sent
				}
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					t.Errorf("unsigned 60 MiB body: HTTP %d", resp.StatusCode)
				}
			}()
		}
		wg.Wait()
	}
	after := rssKiB(p.cmd.Process.Pid)
	t.Logf("RSS of the member before / after 27 unsigned 60 MiB bodies: %d / %d KiB", before, after)
	if after-before > 32<<10 {
		t.Fatalf("RSS grew by %d KiB under unsigned bodies", after-before)
	}
}
