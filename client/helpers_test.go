package client

import (
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// logCapture collects log lines so tests can assert what was logged.
type logCapture struct {
	mu    sync.Mutex
	lines []string
}

func (l *logCapture) Levels() []logrus.Level { return logrus.AllLevels }

func (l *logCapture) Fire(e *logrus.Entry) error {
	s, _ := e.String()
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
	return nil
}

// count returns how many lines contain every part.
func (l *logCapture) count(parts ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
next:
	for _, line := range l.lines {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue next
			}
		}
		n++
	}
	return n
}

func (l *logCapture) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "")
}

// testLog returns a logger that writes nowhere but into the capture.
func testLog() (*logrus.Entry, *logCapture) {
	l := logrus.New()
	l.SetOutput(io.Discard)
	l.SetLevel(logrus.DebugLevel)
	c := &logCapture{}
	l.AddHook(c)
	return logrus.NewEntry(l), c
}

// waitFor polls cond every 10 ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testConfig is a client on loopback: short timeouts, a fresh cache dir,
// no push unless turned on.
func testConfig(t testing.TB, servers ...string) Config {
	cfg := DefaultConfig()
	cfg.ServerAddrs = servers
	cfg.TimeoutMs = 2000
	cfg.CacheDir = t.TempDir()
	cfg.PushDisabled = true
	cfg.PushAddr = "127.0.0.1:0"
	cfg.ClientIP = "127.0.0.1"
	cfg.FailoverCheckInterval = 50 * time.Millisecond
	return cfg
}

// newClient builds and starts a client, closed at the end of the test.
func newClient(t testing.TB, cfg Config) (*Client, *logCapture) {
	t.Helper()
	log, logs := testLog()
	c, err := New(cfg, log)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	if err := c.Start(t.Context()); err != nil {
		t.Fatalf("start client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, logs
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t testing.TB) string {
	t.Helper()
	return "127.0.0.1:" + itoa(freePort(t))
}
