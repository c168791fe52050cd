package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// harness holds what one run shares: the binary, the work directory, the
// processes started (so that all of them are stopped) and the tools found.
type harness struct {
	opts    options
	out     io.Writer
	bin     string
	dir     string
	ownDir  bool
	started time.Time
	procs   *procSet
	tools   tools
	self    string // this executable, for the reference subcommands
	current string // the scenario running, for file names
}

// tools are the external programs found on PATH.
type tools struct {
	dnsperf, wrk, knotd, etcd string
}

func newHarness(ctx context.Context, o options, out io.Writer) (*harness, error) {
	h := &harness{opts: o, out: out, started: time.Now(), procs: newProcSet()}
	if err := raiseFileLimit(); err != nil {
		h.logf("warning: could not raise the open-file limit: %v", err)
	}
	var err error
	if h.self, err = os.Executable(); err != nil {
		return nil, fmt.Errorf("own executable: %w", err)
	}
	h.dir = o.workDir
	if h.dir == "" {
		if h.dir, err = os.MkdirTemp("", "sextant-bench-"); err != nil {
			return nil, err
		}
		h.ownDir = true
	} else if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return nil, err
	}
	if o.perfDir != "" {
		if h.opts.perfDir, err = filepath.Abs(o.perfDir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(h.opts.perfDir, 0o755); err != nil {
			return nil, err
		}
	}
	if o.installRefs {
		installRefs(ctx, h)
	}
	h.tools = findTools()
	h.bin = o.bin
	if h.bin == "" {
		h.bin = filepath.Join(h.dir, "sextant")
		h.logf("building ./cmd/sextant → %s", h.bin)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", h.bin, "./cmd/sextant")
		if b, err := cmd.CombinedOutput(); err != nil {
			h.close()
			return nil, fmt.Errorf("go build ./cmd/sextant (run from the repository root, or pass --bin): %v\n%s", err, b)
		}
	} else if _, err := os.Stat(h.bin); err != nil {
		h.close()
		return nil, fmt.Errorf("--bin: %w", err)
	}
	return h, nil
}

func findTools() tools {
	look := func(name string) string {
		p, err := exec.LookPath(name)
		if err != nil {
			for _, dir := range []string{"/usr/sbin", "/usr/bin", "/sbin"} {
				if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
					return filepath.Join(dir, name)
				}
			}
			return ""
		}
		return p
	}
	return tools{dnsperf: look("dnsperf"), wrk: look("wrk"), knotd: look("knotd"), etcd: look("etcd")}
}

// installRefs installs the Debian packages of the reference systems and
// load tools that are missing. Failures are reported, not fatal.
func installRefs(ctx context.Context, h *harness) {
	t := findTools()
	var pkgs []string
	for pkg, have := range map[string]string{"dnsperf": t.dnsperf, "wrk": t.wrk, "knot": t.knotd, "etcd-server": t.etcd} {
		if have == "" {
			pkgs = append(pkgs, pkg)
		}
	}
	if t.etcd == "" {
		pkgs = append(pkgs, "etcd-client")
	}
	if len(pkgs) == 0 {
		return
	}
	h.logf("installing %s", strings.Join(pkgs, " "))
	ictx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ictx, "apt-get", "update", "-qq").CombinedOutput(); err != nil {
		h.logf("apt-get update: %v\n%s", err, tail(b, 400))
		return
	}
	cmd := exec.CommandContext(ictx, "apt-get", append([]string{"install", "-y", "-qq", "--no-install-recommends"}, pkgs...)...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if b, err := cmd.CombinedOutput(); err != nil {
		h.logf("apt-get install: %v\n%s", err, tail(b, 400))
	}
}

// raiseFileLimit lifts RLIMIT_NOFILE to its hard limit; children inherit it.
func raiseFileLimit() error {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return err
	}
	if r.Cur >= r.Max {
		return nil
	}
	r.Cur = r.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
}

// runAll runs the selected scenarios in order. A scenario that fails adds
// a row saying so; the others still run.
func (h *harness) runAll(ctx context.Context) *report {
	rep := &report{}
	fns := map[string]func(context.Context, *report) error{
		"dns":           h.scenarioDNS,
		"list":          h.scenarioList,
		"register":      h.scenarioRegister,
		"grpc-register": h.scenarioGRPCRegister,
		"grpc-idle":     h.scenarioGRPCIdle,
		"grpc-push":     h.scenarioGRPCPush,
		"persistent":    h.scenarioPersistent,
		"beats":         h.scenarioBeats,
		"memory":        h.scenarioMemory,
		"push":          h.scenarioPush,
		"failover":      h.scenarioFailover,
		"large":         h.scenarioLarge,
		"dnschurn":      h.scenarioDNSChurn,
		"freshness":     h.scenarioFreshness,
		"gateway":       h.scenarioGateway,
	}
	for _, name := range h.opts.scenarios {
		if ctx.Err() != nil {
			rep.note("interrupted before %s", name)
			break
		}
		start := time.Now()
		if busy, err := cpuBusy(ctx, time.Second); err == nil {
			rep.background = append(rep.background, fmt.Sprintf("%s %.0f%%", name, busy*100))
		}
		h.logf("── scenario %s", name)
		h.current = name
		if err := fns[name](ctx, rep); err != nil {
			h.logf("scenario %s failed: %v", name, err)
			rep.add(row{Scenario: name, Metric: "error", Note: oneLine(err.Error())})
		}
		h.procs.stopAll()
		h.logf("── scenario %s done in %v", name, time.Since(start).Round(time.Second))
	}
	return rep
}

// finish prints the table and appends it to the output file.
func (h *harness) finish(rep *report) error {
	m := describeMachine(h.bin)
	text := rep.markdown(h.runHeader(), m)
	fmt.Fprintln(h.out)
	fmt.Fprint(h.out, text)
	if h.opts.noAppend {
		return nil
	}
	return appendReport(h.opts.out, text)
}

func (h *harness) runHeader() runHeader {
	return runHeader{
		Started:  h.started,
		Elapsed:  time.Since(h.started),
		Label:    h.opts.label,
		Args:     strings.Join(os.Args[1:], " "),
		Duration: h.opts.duration,
		Procs:    h.procsNote(),
	}
}

// procsNote says how each process of a cluster on this machine was sized.
func (h *harness) procsNote() string {
	env := h.memberEnv(3)
	if len(env) == 0 {
		return "each process of a 3-member cluster (Sextant nodes, etcd members) runs with Go's default GOMAXPROCS (every core)"
	}
	return "each process of a 3-member cluster (Sextant nodes, etcd members) runs with " + env[0] + ", its share of the cores (`--node-procs`); a lone node keeps every core"
}

// close stops every process started and removes the temporary directory.
func (h *harness) close() {
	h.procs.stopAll()
	if h.ownDir {
		_ = os.RemoveAll(h.dir)
	}
}

func (h *harness) logf(format string, a ...any) {
	fmt.Fprintf(h.out, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

// mkdir makes a fresh directory under the work directory.
func (h *harness) mkdir(name string) (string, error) {
	d, err := os.MkdirTemp(h.dir, name+"-")
	return d, err
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
