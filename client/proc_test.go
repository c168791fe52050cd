package client

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sextant/internal/freeport"
)

// These helpers run the real sextant binary on loopback for the tests that
// need a server.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// sextantBinary builds cmd/sextant once per run, or uses $SEXTANT_BIN.
func sextantBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SEXTANT_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "sextant-client-bin")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "sextant")
		out, err := exec.Command("go", "build", "-o", binPath, "sextant/cmd/sextant").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func itoa(n int) string { return strconv.Itoa(n) }

// freePort returns a port free for both TCP and UDP on 127.0.0.1, below
// the ephemeral range so that no outgoing connection takes it before the
// child binds it.
func freePort(t testing.TB) int {
	t.Helper()
	p, err := freeport.Pick(map[int]bool{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// server is one `sextant server` child process.
type server struct {
	t       testing.TB
	addr    string
	dataDir string
	args    []string
	cmd     *exec.Cmd
	done    chan error
	out     *strings.Builder
	mu      sync.Mutex
}

// startServer runs a standalone node on fresh loopback ports.
func startServer(t testing.TB, extra ...string) *server {
	t.Helper()
	s := &server{t: t, dataDir: t.TempDir(), addr: "127.0.0.1:" + itoa(freePort(t))}
	s.args = append([]string{"server", "--http-addr", s.addr, "--dns-addr", "127.0.0.1:" + itoa(freePort(t)),
		"--data-dir", s.dataDir, "--push-target", "source", "--beat-sweep-interval", "100ms", "--fsync=false",
		"--grpc-addr", "127.0.0.1:" + itoa(freePort(t))}, extra...)
	s.start()
	t.Cleanup(s.kill)
	return s
}

type syncWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (s *server) start() {
	t := s.t
	t.Helper()
	s.out = &strings.Builder{}
	s.cmd = exec.Command(sextantBinary(t), s.args...)
	s.cmd.Stdout = syncWriter{&s.mu, s.out}
	s.cmd.Stderr = syncWriter{&s.mu, s.out}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = make(chan error, 1)
	go func(c *exec.Cmd, done chan error) { done <- c.Wait() }(s.cmd, s.done)
	waitFor(t, 20*time.Second, "readiness of "+s.addr, func() bool {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("sextant exited early: %v\n%s", err, s.output())
		default:
		}
		code, _ := s.do(http.MethodGet, "/nacos/v1/console/health/readiness", nil)
		return code == 200
	})
}

func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// kill stops the process at once (SIGKILL); it may be started again.
func (s *server) kill() {
	if s.cmd != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.done
	}
}

var plainHTTP = &http.Client{Timeout: 5 * time.Second}

func (s *server) do(method, path string, params url.Values) (int, string) {
	u := "http://" + s.addr + path
	var body io.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		u += "?" + params.Encode()
	} else {
		body = strings.NewReader(params.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := plainHTTP.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// register adds an instance directly on this node (not through a client).
func (s *server) register(t testing.TB, service, ip string, port int, extra url.Values) {
	t.Helper()
	p := url.Values{"serviceName": {service}, "ip": {ip}, "port": {itoa(port)}}
	for k, v := range extra {
		p[k] = v
	}
	if code, body := s.do(http.MethodPost, "/nacos/v1/ns/instance", p); code != 200 {
		t.Fatalf("register on %s: %d %s", s.addr, code, body)
	}
}

func (s *server) deregister(t testing.TB, service, ip string, port int) {
	t.Helper()
	p := url.Values{"serviceName": {service}, "ip": {ip}, "port": {itoa(port)}}
	if code, body := s.do(http.MethodDelete, "/nacos/v1/ns/instance", p); code != 200 {
		t.Fatalf("deregister on %s: %d %s", s.addr, code, body)
	}
}

// hosts returns the ips listed by the node for a service.
func (s *server) hosts(service string) []string {
	code, body := s.do(http.MethodGet, "/nacos/v1/ns/instance/list", url.Values{"serviceName": {service}})
	if code != 200 {
		return nil
	}
	svc, err := parseService([]byte(body))
	if err != nil {
		return nil
	}
	var out []string
	for _, h := range svc.Hosts {
		out = append(out, h.IP)
	}
	return out
}
