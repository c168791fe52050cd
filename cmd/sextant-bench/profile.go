package main

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// profile records a CPU profile of the given server processes with Linux
// perf while a measurement runs, when --perf-dir is set and perf is
// installed (apt-get install linux-perf). The returned stop ends the
// recording; `perf report -i <file>` reads it. Go binaries carry their
// symbols, so perf names Go functions.
func (h *harness) profile(name string, pids []int) (stop func()) {
	if h.opts.perfDir == "" || len(pids) == 0 {
		return func() {}
	}
	perf, err := exec.LookPath("perf")
	if err != nil {
		h.logf("perf not found; no profile for %s", name)
		return func() {}
	}
	var ps []string
	for _, p := range pids {
		ps = append(ps, strconv.Itoa(p))
	}
	if h.current != "" && !strings.HasPrefix(name, h.current) {
		name = h.current + "-" + name
	}
	out := filepath.Join(h.opts.perfDir, strings.ReplaceAll(strings.ReplaceAll(name, " ", "-"), "/", "-")+".perf.data")
	cmd := exec.Command(perf, "record", "-q", "-e", "cpu-clock", "-F", "499", "-g", "-p", strings.Join(ps, ","), "-o", out)
	if err := cmd.Start(); err != nil {
		h.logf("perf: %v", err)
		return func() {}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		h.logf("profile of %s: perf report -i %s", name, out)
	}
}
