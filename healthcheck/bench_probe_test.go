package healthcheck

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"sextant/naming"
)

// The fleet benchmarks probe a fleet of TCP listeners on 127.0.0.1 held by
// a child process (this test binary, re-run as TestFleetHelper), so that
// the CPU measured in this process is the checker's alone.
//
//	go test ./healthcheck -run '^$' -bench ProbeFleet -cpu 2
const fleetEnv = "SEXTANT_PROBE_FLEET"

// maxFleet bounds the number of listeners.
const maxFleet = 2000

// TestFleetHelper is the child process: it listens on n loopback ports,
// prints them, and accepts and closes connections until its stdin closes.
// It does nothing in a normal test run.
func TestFleetHelper(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv(fleetEnv))
	if err != nil {
		return
	}
	n = min(max(n, 1), maxFleet)
	out := bufio.NewWriter(os.Stdout)
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(out, "error", err)
			break
		}
		fmt.Fprintln(out, ln.Addr().String())
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	fmt.Fprintln(out, "ready")
	out.Flush()
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	os.Exit(0)
}

// startFleet runs the helper with n listeners and returns their addresses.
func startFleet(b *testing.B, n int) []string {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestFleetHelper$")
	cmd.Env = append(os.Environ(), fleetEnv+"="+strconv.Itoa(n), "GOMAXPROCS=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); cmd.Wait() })
	var addrs []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if line == "ready" {
			return addrs
		}
		if _, _, err := net.SplitHostPort(line); err != nil {
			b.Fatalf("fleet helper: %s", line)
		}
		addrs = append(addrs, line)
	}
	b.Fatalf("fleet helper ended early: %v", sc.Err())
	return nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchFleet registers one persistent instance per address, probed every
// interval, and measures b.N × perOp probes after a first full round.
func benchFleet(b *testing.B, addrs []string, interval time.Duration, workers, perOp int) {
	cat := naming.NewCatalog()
	key := naming.NewServiceKey("", "", "fleet")
	for _, a := range addrs {
		host, port, _ := net.SplitHostPort(a)
		p, _ := strconv.Atoi(port)
		in := &naming.Instance{IP: host, Port: p, Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true}
		if err := cat.Apply(naming.Op{Kind: naming.OpRegister, Time: 1, Service: key, Instance: in}); err != nil {
			b.Fatal(err)
		}
	}
	cfg := DefaultProbeConfig()
	cfg.Interval = interval
	cfg.Workers = workers
	cfg.AllowInternal = true // the fleet listens on loopback
	c, err := NewPersistentChecker(cfg, cat, &catWriter{cat: cat}, nil, RealClock(), nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	// Warm up: one full round, which starts as a burst.
	deadline := time.Now().Add(time.Minute)
	for c.Stats().Probes < uint64(len(addrs)) {
		if time.Now().After(deadline) {
			b.Fatal("first round not done within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s0, cpu0 := c.Stats(), cpuTime()
	b.ResetTimer()
	target := s0.Probes + uint64(b.N*perOp)
	for c.Stats().Probes < target {
		if time.Now().After(deadline.Add(time.Minute)) {
			b.Fatal("probes stalled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	s1, cpu1 := c.Stats(), cpuTime()
	n := float64(s1.Probes - s0.Probes)
	secs := b.Elapsed().Seconds()
	b.ReportMetric(n/secs, "probes/s")
	b.ReportMetric(float64(cpu1-cpu0)/float64(time.Millisecond)/n*1000, "cpu-ms/1000probes")
	b.ReportMetric(float64(s1.Lag-s0.Lag)/float64(time.Millisecond)/n, "lag-ms/probe")
	if s1.Failures != s0.Failures {
		b.Logf("%d failed probes", s1.Failures-s0.Failures)
	}
}

// BenchmarkProbeFleet/capacity runs the fleet at the shortest interval, so
// the checker is saturated: probes/s is what one node can do, and
// probes/s × 5 s is how many instances it keeps at a 5 s interval.
// BenchmarkProbeFleet/interval-5s runs the fleet at 5 s; one op is one
// round over the whole fleet, so ns/op stays at 5 s while the checker keeps
// up. The first round probes every instance at once, and later rounds keep
// that grid: lag-ms/probe is the spread of that burst.
func BenchmarkProbeFleet(b *testing.B) {
	if testing.Short() {
		b.Skip("fleet benchmark in -short mode")
	}
	addrs := startFleet(b, maxFleet)
	for _, workers := range []int{16, 256} {
		b.Run(fmt.Sprintf("capacity/n=%d/workers=%d", len(addrs), workers), func(b *testing.B) {
			benchFleet(b, addrs, naming.MinCheckInterval, workers, 1)
		})
	}
	b.Run(fmt.Sprintf("interval-5s/n=%d/workers=256", len(addrs)), func(b *testing.B) {
		benchFleet(b, addrs, 5*time.Second, 256, len(addrs))
	})
}
