package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestTableRendering(t *testing.T) {
	r := &report{}
	r.add(row{Scenario: "dns", Metric: "queries/s", Sextant: "50,000", Refs: "a | b", Ratio: "0.90×", Target: "≥ 0.9×", Verdict: passed})
	r.add(row{Scenario: "push", Metric: "delay", Sextant: "1.2 s", Verdict: failed, Note: "line one\nline two"})
	lines := strings.Split(strings.TrimSpace(r.table()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want header, separator and 2 rows, got %d lines:\n%s", len(lines), r.table())
	}
	for i, l := range lines {
		if n := strings.Count(l, "|"); n != 9 {
			t.Errorf("line %d has %d pipes (a cell leaked one?): %s", i, n, l)
		}
	}
	if !strings.Contains(lines[2], "| pass |") || !strings.Contains(lines[2], "a / b") {
		t.Errorf("row 1: %s", lines[2])
	}
	if !strings.Contains(lines[3], "**FAIL**") || !strings.Contains(lines[3], "line one line two") || !strings.Contains(lines[3], "| — |") {
		t.Errorf("row 2 (failed, empty cells shown as —, newlines flattened): %s", lines[3])
	}
}

func TestMarkdownAndAppend(t *testing.T) {
	r := &report{background: []string{"dns 3%"}}
	r.add(row{Scenario: "failover", Metric: "median", Sextant: "1.80 s", Verdict: passed})
	r.note("etcd skipped: %s", "not installed")
	h := runHeader{Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Elapsed: 90 * time.Second, Args: "--scenarios failover", Duration: 10 * time.Second}
	m := machine{CPUs: 2, CPU: "Test CPU", Memory: "1.0 GiB", Kernel: "6.1", Go: "go1.26", Commit: "abc", Sextant: "dev"}
	text := r.markdown(h, m)
	for _, want := range []string{"## Run 2026-01-02 03:04 UTC", "2 × Test CPU", "`go run ./cmd/sextant-bench --scenarios failover`", "dns 3%", "| failover | median | 1.80 s |", "- etcd skipped: not installed"} {
		if !strings.Contains(text, want) {
			t.Errorf("markdown lacks %q:\n%s", want, text)
		}
	}
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	for i := 0; i < 2; i++ {
		if err := appendReport(path, text); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(b), "# Benchmarks\n") != 1 || strings.Count(string(b), "## Run ") != 2 {
		t.Errorf("want one header and two runs:\n%s", b)
	}
}

func TestOptions(t *testing.T) {
	o, err := parseOptions(nil, discardWriter{})
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if len(o.scenarios) != len(allScenarios()) || len(o.persistConcs) != 2 || o.persistConcs[1] != 64 {
		t.Errorf("defaults: %+v", o)
	}
	o, err = parseOptions([]string{"--scenarios", "dns, push,dns", "--persistent-concurrency", "8"}, discardWriter{})
	if err != nil || strings.Join(o.scenarios, ",") != "dns,push" || len(o.persistConcs) != 1 {
		t.Errorf("scenarios %v concs %v err %v", o.scenarios, o.persistConcs, err)
	}
	for _, bad := range [][]string{{"--scenarios", "dns,nope"}, {"--duration", "10ms"}, {"--beat-instances", "0"}, {"--push-subscribers", "70000"}, {"--persistent-concurrency", "x"}, {"extra"}} {
		if _, err := parseOptions(bad, discardWriter{}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

type discardWriter struct{}

func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }

func TestMemberEnvSizesClusterProcesses(t *testing.T) {
	h := &harness{}
	want := fmt.Sprintf("GOMAXPROCS=%d", max(1, runtime.NumCPU()/3))
	if got := h.memberEnv(3); len(got) != 1 || got[0] != want {
		t.Errorf("share of 3: %v, want %s", got, want)
	}
	if got := h.memberEnv(1); got != nil {
		t.Errorf("a lone node: %v, want Go's default", got)
	}
	h.opts.nodeProcs = 2
	if got := h.memberEnv(3); len(got) != 1 || got[0] != "GOMAXPROCS=2" {
		t.Errorf("--node-procs 2: %v", got)
	}
	h.opts.nodeProcs = -1
	if got := h.memberEnv(3); got != nil {
		t.Errorf("--node-procs -1: %v, want Go's default", got)
	}
}
