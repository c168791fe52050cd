package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildDir  string
	builtBin  string
	buildErr  error
	buildOut  []byte
)

// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// sextantBinary builds ./cmd/sextant once for the tests of this package.
func sextantBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "sextant-bench-test-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "sextant")
		buildOut, buildErr = exec.Command("go", "build", "-o", builtBin, "sextant/cmd/sextant").CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build sextant/cmd/sextant: %v\n%s", buildErr, buildOut)
	}
	return builtBin
}

// runTiny runs one scenario at the smallest sizes and returns its rows;
// a scenario that fails fails the test.
func runTiny(t *testing.T, scenario string, extra ...string) []row {
	t.Helper()
	args := append([]string{"--scenarios", scenario, "--bin", sextantBinary(t), "--no-append", "--duration", "1s", "--rounds", "1",
		"--work-dir", t.TempDir(), "--dns-services", "4", "--dns-instances", "2", "--dns-load", "go", "--dns-clients", "2",
		"--http-load", "go"}, extra...)
	o, err := parseOptions(args, discardWriter{})
	if err != nil {
		t.Fatal(err)
	}
	o.skipBench = true
	var log bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	h, err := newHarness(ctx, o, &log)
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	rep := h.runAll(ctx)
	for _, r := range rep.rows {
		if r.Metric == "error" {
			t.Fatalf("%s failed: %s\n%s", scenario, r.Note, log.String())
		}
	}
	if len(rep.rows) == 0 {
		t.Fatalf("%s gave no rows\n%s", scenario, log.String())
	}
	return rep.rows
}

// measured fails unless a row whose metric starts with prefix has a figure.
func measured(t *testing.T, rows []row, prefix string) row {
	t.Helper()
	for _, r := range rows {
		if strings.HasPrefix(r.Metric, prefix) {
			if r.Sextant == "" || r.Sextant == "0" {
				t.Fatalf("%q measured nothing: %+v", prefix, r)
			}
			return r
		}
	}
	t.Fatalf("no row %q in %+v", prefix, rows)
	return row{}
}

func TestScenarioLargeAtTinySize(t *testing.T) {
	rows := runTiny(t, "large", "--large-services", "2", "--large-instances", "30", "--large-churn", "50", "--large-pollers", "2")
	measured(t, rows, "list polls/s while instances change")
	r := measured(t, rows, "changes/s applied")
	if !strings.Contains(r.Note, "0 failed") {
		t.Errorf("changes failed: %s", r.Note)
	}
}

func TestScenarioDNSChurnAtTinySize(t *testing.T) {
	rows := runTiny(t, "dnschurn", "--churn-writes", "40")
	r := measured(t, rows, "queries/s while")
	if !strings.Contains(r.Refs, "Sextant quiet") || r.Ratio == "" {
		t.Errorf("no quiet reference: %+v", r)
	}
	measured(t, rows, "queries/s quiet vs Knot")
}

func TestScenarioFreshnessAtTinySize(t *testing.T) {
	rows := runTiny(t, "freshness", "--fresh-writes", "3")
	for _, m := range []string{
		"write → DNS answer, the node that took it", "write → DNS answer, the other nodes",
		"write → instance/list, the node that took it", "write → instance/list, the other nodes",
	} {
		r := measured(t, rows, m)
		if !strings.Contains(r.Note, " 0 (node, answer) pairs not seen") {
			t.Errorf("%s: writes not seen: %s", m, r.Note)
		}
	}
}

func TestScenarioGatewayAtTinySize(t *testing.T) {
	rows := runTiny(t, "gateway", "--gateway-changes", "2")
	r := measured(t, rows, "DNS queries/s from the gateway")
	if !strings.Contains(r.Refs, "the node's own DNS") {
		t.Errorf("no reference: %+v", r)
	}
	c := measured(t, rows, "change on the node → gateway DNS answer")
	if !strings.Contains(c.Note, "; 0 not seen") {
		t.Errorf("changes not seen: %s", c.Note)
	}
}
