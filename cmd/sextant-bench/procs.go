package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is one process the harness started.
type child struct {
	name string
	path string
	args []string
	env  []string // added to the harness's environment
	log  string   // file the output goes to

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	exitErr error
}

// procSet remembers every child so that each is stopped, by its own pid.
type procSet struct {
	mu    sync.Mutex
	procs []*child
}

func newProcSet() *procSet { return &procSet{} }

// start runs path with args, output appended to logFile.
func (s *procSet) start(name, path, logFile string, args ...string) (*child, error) {
	return s.startEnv(name, path, logFile, nil, args...)
}

// startEnv is start with env added to the environment.
func (s *procSet) startEnv(name, path, logFile string, env []string, args ...string) (*child, error) {
	c := &child{name: name, path: path, args: args, env: env, log: logFile}
	if err := c.launch(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.procs = append(s.procs, c)
	s.mu.Unlock()
	return c, nil
}

func (c *child) launch() error {
	f, err := os.OpenFile(c.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.path, c.args...)
	if len(c.env) > 0 {
		cmd.Env = append(os.Environ(), c.env...)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", c.name, err)
	}
	done := make(chan struct{})
	c.mu.Lock()
	c.cmd, c.done, c.exitErr = cmd, done, nil
	c.mu.Unlock()
	go func() {
		err := cmd.Wait()
		f.Close()
		c.mu.Lock()
		c.exitErr = err
		c.mu.Unlock()
		close(done)
	}()
	return nil
}

// restart runs the same command again; the previous run must have ended.
func (c *child) restart() error {
	if c.running() {
		return fmt.Errorf("%s is still running", c.name)
	}
	return c.launch()
}

func (c *child) running() bool {
	c.mu.Lock()
	done := c.done
	c.mu.Unlock()
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// exited returns the exit error once the process ended.
func (c *child) exited() (bool, error) {
	if c.running() {
		return false, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return true, c.exitErr
}

func (c *child) pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cmd.Process.Pid
}

// kill sends SIGKILL and waits for the exit.
func (c *child) kill() {
	c.signalWait(syscall.SIGKILL, 10*time.Second)
}

// stop sends SIGTERM, then SIGKILL after the grace time.
func (c *child) stop(grace time.Duration) {
	if !c.signalWait(syscall.SIGTERM, grace) {
		c.kill()
	}
}

// signalWait signals the process and reports whether it exited in time.
func (c *child) signalWait(sig syscall.Signal, wait time.Duration) bool {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	c.mu.Unlock()
	select {
	case <-done:
		return true
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
		return true
	case <-time.After(wait):
		return false
	}
}

// logTail is the end of the child's output, for error messages.
func (c *child) logTail() string {
	b, err := os.ReadFile(c.log)
	if err != nil {
		return ""
	}
	return tail(b, 1500)
}

// stopAll stops every child started so far and forgets them.
func (s *procSet) stopAll() {
	s.mu.Lock()
	procs := s.procs
	s.procs = nil
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); c.stop(10 * time.Second) }()
	}
	wg.Wait()
}

// memStatus is the memory of a process from /proc/<pid>/status.
type memStatus struct {
	RSS, HWM int64 // bytes: VmRSS and VmHWM (peak)
}

func readMemStatus(pid int) (memStatus, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStatus{}, err
	}
	defer f.Close()
	return parseMemStatus(bufio.NewScanner(f))
}

func parseMemStatus(sc *bufio.Scanner) (memStatus, error) {
	var m memStatus
	found := 0
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.HWM
		default:
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("%s: unexpected value %q", key, val)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("%s: %w", key, err)
		}
		*dst = n * 1024
		found++
	}
	if found < 2 {
		return m, errors.New("VmRSS/VmHWM not found")
	}
	return m, sc.Err()
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc (100 on Linux).
const clockTicks = 100

// cpuTime returns the user+system CPU time a process used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime from a /proc/<pid>/stat line. The
// command name (field 2) may hold spaces, so fields are counted after its
// closing parenthesis.
func parseStatCPU(s string) (time.Duration, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("stat: no command field")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, errors.New("stat: too few fields")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// cpuMeter measures the CPU time of a set of processes over an interval.
type cpuMeter struct {
	pids  []int
	start []time.Duration
}

func startCPU(pids ...int) *cpuMeter {
	m := &cpuMeter{pids: pids}
	for _, p := range pids {
		t, _ := cpuTime(p)
		m.start = append(m.start, t)
	}
	return m
}

// used is the CPU time spent by all the processes since startCPU.
func (m *cpuMeter) used() time.Duration {
	var sum time.Duration
	for i, p := range m.pids {
		t, err := cpuTime(p)
		if err == nil {
			sum += t - m.start[i]
		}
	}
	return sum
}
