package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// verdict of a row against its target.
type verdict int

const (
	noTarget verdict = iota
	passed
	failed
)

func (v verdict) String() string {
	switch v {
	case passed:
		return "pass"
	case failed:
		return "**FAIL**"
	}
	return "—"
}

func judge(ok bool) verdict {
	if ok {
		return passed
	}
	return failed
}

// row is one line of the results table. Values are preformatted.
type row struct {
	Scenario string
	Metric   string
	Sextant  string
	Refs     string // references measured in the same run (or marked otherwise)
	Ratio    string
	Target   string
	Verdict  verdict
	Note     string
}

// report collects rows and notes of a run.
type report struct {
	rows  []row
	notes []string
	// background is the CPU found busy (of all cores) in the second before
	// each scenario, while the harness ran nothing: load from outside.
	background []string
}

func (r *report) add(rw row) { r.rows = append(r.rows, rw) }

func (r *report) note(format string, a ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, a...))
}

// runHeader describes the run itself.
type runHeader struct {
	Started  time.Time
	Elapsed  time.Duration
	Label    string
	Args     string
	Duration time.Duration
	// Procs says how the processes of a cluster were sized (GOMAXPROCS).
	Procs string
}

// machine describes where the run happened.
type machine struct {
	CPUs    int
	CPU     string
	Memory  string
	Kernel  string
	Go      string
	Commit  string
	Sextant string
}

// markdown renders the run as a BENCHMARKS.md section.
func (r *report) markdown(h runHeader, m machine) string {
	var b strings.Builder
	title := h.Started.UTC().Format("2006-01-02 15:04 UTC")
	if h.Label != "" {
		title += " — " + h.Label
	}
	fmt.Fprintf(&b, "## Run %s\n\n", title)
	fmt.Fprintf(&b, "- machine: %d × %s, %s memory, Linux %s; load generators and every server share these cores\n", m.CPUs, m.CPU, m.Memory, m.Kernel)
	fmt.Fprintf(&b, "- software: %s; sextant %s (commit %s)\n", m.Go, m.Sextant, m.Commit)
	cmdline := "go run ./cmd/sextant-bench"
	if h.Args != "" {
		cmdline += " " + h.Args
	}
	fmt.Fprintf(&b, "- command: `%s`; %v per measurement; the run took %v\n", cmdline, h.Duration, h.Elapsed.Round(time.Second))
	if h.Procs != "" {
		fmt.Fprintf(&b, "- %s\n", h.Procs)
	}
	if len(r.background) > 0 {
		fmt.Fprintf(&b, "- CPU busy from outside the run, sampled for 1 s before each scenario: %s\n", strings.Join(r.background, ", "))
	}
	b.WriteString("\n")
	b.WriteString(r.table())
	if len(r.notes) > 0 {
		b.WriteString("\nNotes:\n\n")
		for _, n := range r.notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	b.WriteString("\n")
	return b.String()
}

// table renders the rows as a Markdown table.
func (r *report) table() string {
	var b strings.Builder
	b.WriteString("| scenario | metric | Sextant | reference (same run) | ratio | target | result | notes |\n")
	b.WriteString("|---|---|---:|---|---:|---|---|---|\n")
	for _, rw := range r.rows {
		cells := []string{rw.Scenario, rw.Metric, rw.Sextant, rw.Refs, rw.Ratio, rw.Target, rw.Verdict.String(), rw.Note}
		for i, c := range cells {
			if c == "" {
				c = "—"
			}
			cells[i] = strings.ReplaceAll(strings.ReplaceAll(c, "|", "/"), "\n", " ")
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

// ratio formats a/b as "0.93×" ("" when b is 0).
func ratio(a, b float64) string {
	if b == 0 {
		return ""
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64) + "×"
}

const benchmarksHead = `# Benchmarks

Each section below is one run of ` + "`go run ./cmd/sextant-bench`" + ` (see README.md, section
Performance), appended by the harness itself: the machine, the command, and per scenario Sextant's
figure beside the reference systems measured in the same run, the ratio, the target of the issue and
whether it is met. Figures from different runs or machines are not comparable; compare within a run.

`

// appendReport appends text to path, creating it with a header first.
func appendReport(path, text string) error {
	_, err := os.Stat(path)
	f, ferr := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if ferr != nil {
		return ferr
	}
	if os.IsNotExist(err) {
		if _, err := f.WriteString(benchmarksHead); err != nil {
			f.Close()
			return err
		}
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// describeMachine reads the machine's description from /proc and tools.
func describeMachine(bin string) machine {
	m := machine{CPUs: runtime.NumCPU(), CPU: "unknown CPU", Memory: "unknown", Kernel: "unknown", Go: runtime.Version(), Commit: "unknown", Sextant: "unknown"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == "MemTotal" {
				if kb, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64); err == nil {
					m.Memory = fmtBytes(kb * 1024)
				}
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(b))
		if st, err := exec.Command("git", "status", "--porcelain").Output(); err == nil && len(st) > 0 {
			m.Commit += " with local changes"
		}
	}
	if b, err := exec.Command(bin, "version").Output(); err == nil {
		m.Sextant = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(b)), "sextant"))
	}
	return m
}
