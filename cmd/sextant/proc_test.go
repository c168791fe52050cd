package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sextant/internal/freeport"
)

// These helpers run the real sextant binary as a child process on loopback.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(v2ClientEnv); spec != "" {
		// This process is a client another test runs and kills.
		os.Exit(runV2Client(spec))
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// sextantBinary builds cmd/sextant once per test run.
func sextantBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "sextant-bin")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "sextant")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a port free for both TCP and UDP on 127.0.0.1, below
// the ephemeral range so that no outgoing connection takes it before the
// child binds it.
func freePort(t *testing.T) int {
	t.Helper()
	p, err := freeport.Pick(map[int]bool{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	args []string
	// wrap, when set, runs the binary through a command (e.g. ip netns exec NS).
	wrap []string
	// bin, when set, is the binary to run instead of this tree's.
	bin      string
	httpAddr string
	dnsAddr  string
	// grpcAddr is the gRPC front's address, picked by launch.
	grpcAddr string
	dataDir  string
	logs     *logBuf
	// done is closed when the current process has exited; exitErr is then its result.
	done    chan struct{}
	exitErr error
}

// startSextant runs `sextant server` on fresh loopback ports with a fresh
// data dir (or the given one) and waits until it is ready.
func startSextant(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	p := &proc{t: t, dataDir: dataDir,
		httpAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		dnsAddr:  fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	p.args = append([]string{"server", "--http-addr", p.httpAddr, "--dns-addr", p.dnsAddr,
		"--data-dir", dataDir, "--push-target", "source", "--beat-sweep-interval", "100ms"}, extra...)
	p.start()
	return p
}

// start runs the process and waits until it is ready.
func (p *proc) start() {
	p.t.Helper()
	p.launch()
	p.waitReady()
}

// launch runs the process without waiting for it.
func (p *proc) launch() {
	t := p.t
	t.Helper()
	p.logs = &logBuf{}
	if len(p.args) > 0 && p.args[0] == "server" && p.grpcAddr == "" {
		// A port of its own rather than the HTTP port + 1000, which may
		// belong to another test's process.
		p.grpcAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
		p.args = append(p.args, "--grpc-addr", p.grpcAddr)
	}
	bin := p.bin
	if bin == "" {
		bin = sextantBinary(t)
	}
	argv := append(append(append([]string{}, p.wrap...), bin), p.args...)
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	p.done = done
	go func(c *exec.Cmd) { p.exitErr = c.Wait(); close(done) }(p.cmd)
	t.Cleanup(func() { p.kill() })
}

// waitReady waits for the readiness endpoint to answer 200.
func (p *proc) waitReady() {
	t := p.t
	t.Helper()
	waitFor(t, 30*time.Second, "readiness of "+p.httpAddr, func() bool {
		select {
		case <-p.done:
			t.Fatalf("sextant exited early: %v\n%s", p.exitErr, p.logs.String())
		default:
		}
		code, _ := p.get("/nacos/v1/console/health/readiness", nil)
		return code == 200
	})
}

// logBuf collects a child's output; safe for concurrent use.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (p *proc) kill() {
	if p.cmd == nil {
		return
	}
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.exitErr
	case <-time.After(15 * time.Second):
		p.t.Fatalf("sextant did not stop within 15s\n%s", p.logs.String())
		return nil
	}
}

// restart starts the process again with the same ports and data dir.
func (p *proc) restart() {
	p.t.Helper()
	p.start()
}

func (p *proc) port() int {
	_, port, _ := net.SplitHostPort(p.httpAddr)
	var n int
	fmt.Sscan(port, &n)
	return n
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

func (p *proc) do(method, path string, params url.Values) (int, string) {
	u := "http://" + p.httpAddr + path
	var body io.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		if len(params) > 0 {
			u += "?" + params.Encode()
		}
	} else {
		body = strings.NewReader(params.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (p *proc) get(path string, params url.Values) (int, string) {
	return p.do(http.MethodGet, path, params)
}

// list returns the hosts of instance/list for a service.
func (p *proc) list(t *testing.T, service string) []map[string]any {
	t.Helper()
	code, body := p.get("/nacos/v1/ns/instance/list", url.Values{"serviceName": {service}})
	if code != 200 {
		t.Fatalf("instance/list: %d %s", code, body)
	}
	var v struct {
		Hosts []map[string]any `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("instance/list body %q: %v", body, err)
	}
	return v.Hosts
}
