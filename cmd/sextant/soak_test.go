package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	soakFor       = flag.Duration("sextant.soak", 0, "run the soak test for this long (also SEXTANT_SOAK=2m); 0 skips it")
	soakInstances = flag.Int("sextant.soak-instances", 10000, "ephemeral instances the soak fleet keeps alive (also SEXTANT_SOAK_INSTANCES)")
)

// rssKiB reads a process's resident set size from /proc.
func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	return 0
}

func (c *rcluster) rss() []int64 {
	out := make([]int64, len(c.ps))
	for i, p := range c.ps {
		out[i] = rssKiB(p.cmd.Process.Pid)
	}
	return out
}

// TestSoak keeps a fleet of simulated clients (ephemeral instances beating
// every 5 s, full beats as the Go client sends) against a three-node
// cluster for a set time, and checks that no instance is ever listed
// unhealthy or missing on any node while its client beats, and that the
// nodes' memory stays flat once the fleet is registered. It prints the
// memory per 10,000 instances. Off by default:
//
//	go test ./cmd/sextant -run TestSoak -sextant.soak 3m -sextant.soak-instances 20000 -v
func TestSoak(t *testing.T) {
	d := *soakFor
	if s := os.Getenv("SEXTANT_SOAK"); s != "" && d == 0 {
		d, _ = time.ParseDuration(s)
	}
	n := *soakInstances
	if s := os.Getenv("SEXTANT_SOAK_INSTANCES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	if d <= 0 {
		t.Skip("soak test: set -sextant.soak DURATION (or SEXTANT_SOAK) to run it")
	}
	const (
		interval    = 5 * time.Second
		perService  = 100
		workers     = 96
		pollEvery   = 3 * time.Second
		rssEvery    = 10 * time.Second
		warmupAfter = 30 * time.Second
	)
	ps := startCluster3(t)
	c := &rcluster{t: t, ps: ps}
	for _, p := range ps {
		c.members = append(c.members, p.httpAddr)
	}
	base := c.rss()
	w := newWorkload(c)
	w.fast.Timeout = 3 * time.Second
	w.fast.Transport.(*http.Transport).MaxIdleConnsPerHost = workers
	services := (n + perService - 1) / perService
	ref := func(i int) instRef {
		return instRef{svc: fmt.Sprintf("soak-%d", i%services), ip: fmt.Sprintf("10.%d.%d.%d", 100+i/62500, i/250%250, i%250+1), port: 8080}
	}

	// Register the fleet.
	start := time.Now()
	var wg sync.WaitGroup
	var failedReg atomic.Int64
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for i := k; i < n; i += workers {
				r := ref(i)
				params := url.Values{"serviceName": {r.svc}, "ip": {r.ip}, "port": {"8080"}, "ephemeral": {"true"}, "weight": {"1"}}
				ok := false
				for a := 0; a < 5 && !ok; a++ {
					code, _ := w.call(w.fast, (i+a)%3, http.MethodPost, "/nacos/v1/ns/instance", params)
					ok = code == 200
				}
				if !ok {
					failedReg.Add(1)
				}
			}
		}(k)
	}
	wg.Wait()
	if failedReg.Load() > 0 {
		t.Fatalf("%d of %d registrations failed", failedReg.Load(), n)
	}
	registered := time.Now()
	t.Logf("registered %d instances in %d services in %v", n, services, registered.Sub(start).Round(time.Millisecond))

	// Beat: instance i beats at phase i*interval/n, to node i%3 (the next
	// node when that one fails).
	stop := make(chan struct{})
	var beats, beatFails atomic.Int64
	var maxLag atomic.Int64
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			t0 := registered
			for round := 0; ; round++ {
				for i := k; i < n; i += workers {
					select {
					case <-stop:
						return
					default:
					}
					due := t0.Add(time.Duration(round)*interval + time.Duration(int64(interval)*int64(i)/int64(n)))
					if wait := time.Until(due); wait > 0 {
						select {
						case <-stop:
							return
						case <-time.After(wait):
						}
					} else if lag := -wait; int64(lag) > maxLag.Load() {
						maxLag.Store(int64(lag))
					}
					r := ref(i)
					b, _ := json.Marshal(map[string]any{"ip": r.ip, "port": r.port, "serviceName": "DEFAULT_GROUP@@" + r.svc,
						"cluster": "DEFAULT", "weight": 1, "metadata": map[string]string{}})
					params := url.Values{"serviceName": {r.svc}, "beat": {string(b)}}
					ok := false
					for a := 0; a < 3 && !ok; a++ {
						code, _ := w.call(w.fast, (i+a)%3, http.MethodPut, "/nacos/v1/ns/instance/beat", params)
						ok = code == 200
					}
					beats.Add(1)
					if !ok {
						beatFails.Add(1)
					}
				}
			}
		}(k)
	}
	defer func() { close(stop); wg.Wait() }()

	// Watch: every service on every node, and memory.
	var flips int
	seenFlip := map[string]bool{}
	var warm []int64
	peak := make([]int64, len(ps))
	lastRSS := time.Time{}
	end := registered.Add(d)
	rounds := 0
	for time.Now().Before(end) {
		time.Sleep(pollEvery)
		rounds++
		listFails := 0
		for node := range ps {
			for s := 0; s < services && time.Now().Before(end); s++ {
				svc := fmt.Sprintf("soak-%d", s)
				hosts, err := w.listOn(node, svc)
				if err != nil {
					if listFails++; listFails <= 3 {
						t.Logf("node %d: %v", node, err)
					}
					continue
				}
				want := perService
				if s == services-1 && n%perService != 0 {
					want = n % perService
				}
				healthy := 0
				for _, h := range hosts {
					if h.Healthy {
						healthy++
					} else if k := fmt.Sprintf("%d|%s|%s", node, svc, h.IP); !seenFlip[k] {
						seenFlip[k] = true
						flips++
					}
				}
				if healthy != want && !seenFlip[fmt.Sprintf("%d|%s|count", node, svc)] {
					seenFlip[fmt.Sprintf("%d|%s|count", node, svc)] = true
					t.Logf("node %d %s: %d healthy of %d listed, %d registered", node, svc, healthy, len(hosts), want)
				}
			}
		}
		if time.Since(lastRSS) >= rssEvery {
			lastRSS = time.Now()
			now := c.rss()
			for i := range now {
				peak[i] = max(peak[i], now[i])
			}
			if warm == nil && time.Since(registered) >= warmupAfter {
				warm = now
			}
			t.Logf("%v: RSS KiB %v, %d beats (%d failed), max client lag %v, %d flips",
				time.Since(registered).Round(time.Second), now, beats.Load(), beatFails.Load(),
				time.Duration(maxLag.Load()).Round(time.Millisecond), flips)
		}
	}
	final := c.rss()
	for i := range ps {
		perTenK := float64(final[i]-base[i]) / float64(n) * 10000 / 1024
		t.Logf("node %d: RSS %d KiB before, %d KiB after warm-up, %d KiB at the end (peak %d): %.1f MiB per 10k instances",
			i, base[i], warmAt(warm, i), final[i], peak[i], perTenK)
	}
	t.Logf("fleet %d instances, %.0f beats/s for %v: %d beats, %d failed, %d false flips, max client lag %v, %d poll rounds",
		n, float64(n)/interval.Seconds(), d, beats.Load(), beatFails.Load(), flips,
		time.Duration(maxLag.Load()).Round(time.Millisecond), rounds)
	if flips > 0 {
		t.Errorf("%d instances were listed unhealthy while their clients beat", flips)
	}
	if lag := time.Duration(maxLag.Load()); lag > interval {
		t.Errorf("the fleet's clients fell %v behind their beat interval (the machine is too busy to drive this fleet): the run does not show the fleet was held", lag.Round(time.Millisecond))
	}
	if warm != nil {
		for i := range ps {
			if grew := final[i] - warm[i]; grew > warm[i]/5+20*1024 {
				t.Errorf("node %d: RSS grew from %d to %d KiB after warm-up", i, warm[i], final[i])
			}
		}
	}
}

func warmAt(warm []int64, i int) int64 {
	if warm == nil {
		return 0
	}
	return warm[i]
}
