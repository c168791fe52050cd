package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rcluster is a cluster of real sextant processes, one per network
// namespace of a testNet, that the nemesis may cut off, slow down, pause,
// kill and restart.
type rcluster struct {
	t       *testing.T
	net     *testNet
	ps      []*proc
	members []string
	// state of each node, for repairs
	cut, paused, dead, slow []bool
	// linkCut[i] is the node whose link with i alone is cut, -1 for none
	linkCut []int
	// slowWith is the qdisc the slow fault uses ("" when none works here).
	slowWith string
	// stopFlood ends the Raft port flood of faultFlood (nil when none).
	stopFlood func() int64
	// stopStutter ends node i's faultStutter (nil when none).
	stopStutter []func()
	// oldLogs holds each node's output from processes killed before, each
	// ended by a line "process killed at=<Unix ms>"; killedAt is the time
	// of each node's last kill.
	oldLogs  []string
	killedAt []time.Time
	// offsets are the nodes' clock offsets (SEXTANT_CLOCK_OFFSET), which
	// the checks take off the times nodes log.
	offsets []time.Duration
}

// skewFromEnv reads SEXTANT_SKEW (e.g. 60s), the largest difference
// between two members' clocks: node i's clock runs (i-1)×skew/2 off, so
// with three nodes one is behind by half of it and one ahead by half.
func skewFromEnv(t *testing.T, n int) []time.Duration {
	offsets := make([]time.Duration, n)
	v := os.Getenv("SEXTANT_SKEW")
	if v == "" {
		return offsets
	}
	skew, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("SEXTANT_SKEW=%q: %v", v, err)
	}
	for i := range offsets {
		offsets[i] = time.Duration(i-1) * skew / 2
	}
	t.Logf("node clocks off by %v", offsets)
	return offsets
}

// skewed reports whether the nodes' clocks were set apart (SEXTANT_SKEW).
func (c *rcluster) skewed() bool {
	for _, d := range c.offsets {
		if d != 0 {
			return true
		}
	}
	return false
}

// nodeMs turns a time node i logged (Unix ms on its clock) into the test's.
func (c *rcluster) nodeMs(i int, ms int64) int64 { return ms - c.offsets[i].Milliseconds() }

// keepLogs writes every node's output (over its restarts) to
// dir/node<i>.log, for study after the run; dir "" keeps nothing
// (SEXTANT_KEEP_LOGS=dir).
func (c *rcluster) keepLogs(dir string) {
	if dir == "" {
		return
	}
	for i := range c.ps {
		name := filepath.Join(dir, fmt.Sprintf("node%d.log", i))
		if err := os.WriteFile(name, []byte(c.nodeLogs(i)), 0o644); err != nil {
			c.t.Logf("keeping node %d's log: %v", i, err)
			continue
		}
		c.t.Logf("node %d's log is in %s", i, name)
	}
}

// nodeLogs returns everything node i wrote, over its restarts.
func (c *rcluster) nodeLogs(i int) string {
	return c.oldLogs[i] + c.ps[i].logs.String()
}

func startRCluster(t *testing.T, n int, extra ...string) *rcluster {
	t.Helper()
	tn := newTestNet(t, n)
	c := &rcluster{t: t, net: tn, cut: make([]bool, n), paused: make([]bool, n), dead: make([]bool, n), slow: make([]bool, n), linkCut: make([]int, n), oldLogs: make([]string, n), killedAt: make([]time.Time, n), offsets: skewFromEnv(t, n), stopStutter: make([]func(), n)}
	for i := range c.linkCut {
		c.linkCut[i] = -1
	}
	c.members = tn.members()
	for i := 0; i < n; i++ {
		p := tn.proc(i, "reliability-secret", append([]string{"--push-enabled=false",
			// info: the checks read the beat checkers' judging periods,
			// flips and removals from the logs.
			"--log-level", "info",
			"--dns-rate-limit", "0"}, extra...)...) // the checks query DNS from outside loopback by the hundred
		if d := c.offsets[i]; d != 0 {
			p.wrap = append(p.wrap, "env", "SEXTANT_CLOCK_OFFSET="+d.String())
		}
		p.launch()
		c.ps = append(c.ps, p)
	}
	for _, p := range c.ps {
		p.waitReady()
	}
	return c
}

// leader returns the index of the node the others name as Raft leader,
// or -1.
func (c *rcluster) leader() int {
	for i, p := range c.ps {
		if c.dead[i] || c.paused[i] {
			continue
		}
		code, body := p.get("/nacos/v1/ns/raft/leader", nil)
		if code != 200 {
			continue
		}
		for j, m := range c.members {
			if strings.Contains(body, m) {
				return j
			}
		}
	}
	return -1
}

// slowKind finds how this machine can slow a link: "netem" (delay and
// loss), "tbf" (a thin token bucket: queueing delay and drops), or "".
func (c *rcluster) slowKind() string {
	if _, err := exec.LookPath("tc"); err != nil {
		return ""
	}
	for _, kind := range []string{"netem", "tbf"} {
		if c.shape(0, kind) == nil && c.shape(0, "") == nil {
			return kind
		}
	}
	return ""
}

// shape puts a qdisc of kind on node i's link ("" removes it): netem
// adds 80±40 ms of delay and 5% loss; tbf limits the link to 256 kbit/s
// with 200 ms of queue, beyond which packets drop.
func (c *rcluster) shape(i int, kind string) error {
	dev := fmt.Sprintf("%sv%d", c.net.prefix, i)
	base := []string{"netns", "exec", c.net.ns(i), "tc", "qdisc"}
	var args []string
	switch kind {
	case "":
		args = append(base, "del", "dev", dev, "root")
	case "netem":
		args = append(base, "add", "dev", dev, "root", "netem", "delay", "80ms", "40ms", "loss", "5%")
	case "tbf":
		args = append(base, "add", "dev", dev, "root", "tbf", "rate", "256kbit", "burst", "16kbit", "latency", "200ms")
	}
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("tc %s: %v: %s", kind, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// fault is one kind of trouble the nemesis makes.
type fault string

const (
	faultCut       fault = "partition"
	faultCutLeader fault = "partition-leader"
	faultKill      fault = "kill"
	faultPause     fault = "pause"
	faultSlow      fault = "slow-link"
	// faultFlood floods every member's Raft port with idle connections
	// (about 750 a second from the test host) and kills the leader.
	faultFlood fault = "raft-flood"
	// faultCutLink cuts the link between the victim and the next node
	// only: the third node still sees both (a partial partition).
	faultCutLink fault = "partial-partition"
	// faultStutter slows the victim down without stopping it for long:
	// stopped 300 ms, running 200 ms, over and over (an overloaded or
	// swapping owner); each stop is well under the 2 s stall limit.
	faultStutter fault = "stutter"
)

// stutter stops and resumes node i in bursts until stop is closed, and
// leaves it running.
func (c *rcluster) stutter(i int, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	p := c.ps[i].cmd.Process
	for {
		_ = p.Signal(syscall.SIGSTOP)
		select {
		case <-stop:
			_ = p.Signal(syscall.SIGCONT)
			return
		case <-time.After(300 * time.Millisecond):
		}
		_ = p.Signal(syscall.SIGCONT)
		select {
		case <-stop:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// inflict starts a fault on node i; repair ends it.
func (c *rcluster) inflict(f fault, i int) {
	c.t.Helper()
	switch f {
	case faultCut, faultCutLeader:
		c.net.cut(i)
		c.cut[i] = true
	case faultCutLink:
		j := (i + 1) % len(c.ps)
		c.net.cutLink(i, j)
		c.linkCut[i] = j
	case faultKill:
		c.ps[i].kill()
		c.dead[i], c.killedAt[i] = true, time.Now()
	case faultPause:
		if err := c.ps[i].cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			c.t.Fatal(err)
		}
		c.paused[i] = true
	case faultStutter:
		stop, done := make(chan struct{}), make(chan struct{})
		go c.stutter(i, stop, done)
		c.stopStutter[i] = func() { close(stop); <-done }
	case faultSlow:
		if err := c.shape(i, c.slowWith); err != nil {
			c.t.Fatal(err)
		}
		c.slow[i] = true
	case faultFlood:
		var targets []string
		for _, m := range c.members {
			a, err := raftAddrOf(m)
			if err != nil {
				c.t.Fatal(err)
			}
			targets = append(targets, a)
		}
		stop := floodRaft([]string{"", ""}, targets, 8*time.Millisecond)
		c.stopFlood = stop
		c.t.Cleanup(func() { stop() })
		time.Sleep(500 * time.Millisecond)
		c.ps[i].kill()
		c.dead[i], c.killedAt[i] = true, time.Now()
	}
}

// repair undoes every fault on node i: heals the network, resumes and
// restarts it (with its data dir), and waits until it is ready.
func (c *rcluster) repair(i int) {
	c.t.Helper()
	if c.stopFlood != nil {
		c.stopFlood()
		c.stopFlood = nil
	}
	if c.cut[i] {
		c.net.heal(i)
		c.cut[i] = false
	}
	if j := c.linkCut[i]; j >= 0 {
		c.net.healLink(i, j)
		c.linkCut[i] = -1
	}
	if c.slow[i] {
		if err := c.shape(i, ""); err != nil {
			c.t.Fatal(err)
		}
		c.slow[i] = false
	}
	if stop := c.stopStutter[i]; stop != nil {
		stop()
		c.stopStutter[i] = nil
	}
	if c.paused[i] {
		if err := c.ps[i].cmd.Process.Signal(syscall.SIGCONT); err != nil {
			c.t.Fatal(err)
		}
		c.paused[i] = false
	}
	if c.dead[i] {
		c.oldLogs[i] += c.ps[i].logs.String() + fmt.Sprintf("process killed at=%d\n", c.killedAt[i].UnixMilli())
		c.ps[i].launch()
		c.dead[i] = false
	}
	c.ps[i].waitReady()
}

func (c *rcluster) repairAll() {
	for i := range c.ps {
		c.repair(i)
	}
}

// nemesis makes one fault at a time until stop, each lasting 2-6 s with
// a quiet spell of 1-3 s after its repair, and counts them by kind.
func (c *rcluster) nemesis(d time.Duration, seed uint64) map[fault]int {
	c.t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	kinds := []fault{faultCut, faultCutLeader, faultCutLink, faultKill, faultPause, faultFlood, faultStutter}
	switch c.slowWith = c.slowKind(); c.slowWith {
	case "netem":
		c.t.Log("slow-link faults: tc netem, 80±40 ms delay and 5% loss")
	case "tbf":
		c.t.Log("slow-link faults: tc tbf, 256 kbit/s with 200 ms of queue (netem is not available here)")
	default:
		c.t.Log("tc cannot shape links here: no slow-link faults")
	}
	if c.slowWith != "" {
		kinds = append(kinds, faultSlow)
	}
	if only := os.Getenv("SEXTANT_FAULTS"); only != "" {
		// e.g. SEXTANT_FAULTS=pause,kill: only these kinds, to study one.
		var keep []fault
		for _, k := range kinds {
			if strings.Contains(","+only+",", ","+string(k)+",") {
				keep = append(keep, k)
			}
		}
		if len(keep) == 0 {
			c.t.Fatalf("SEXTANT_FAULTS=%q names none of %v", only, kinds)
		}
		kinds = keep
	}
	counts := map[fault]int{}
	for end := time.Now().Add(d); time.Now().Before(end); {
		f := kinds[rng.IntN(len(kinds))]
		victim := rng.IntN(len(c.ps))
		if f == faultCutLeader || f == faultFlood {
			if l := c.leader(); l >= 0 {
				victim = l
			}
		}
		c.t.Logf("%s %s on node %d", time.Now().Format("15:04:05.000"), f, victim)
		c.inflict(f, victim)
		counts[f]++
		time.Sleep(time.Duration(2000+rng.IntN(4000)) * time.Millisecond)
		c.repair(victim)
		c.t.Logf("%s node %d repaired", time.Now().Format("15:04:05.000"), victim)
		time.Sleep(time.Duration(1000+rng.IntN(2000)) * time.Millisecond)
	}
	return counts
}
