package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestClusterTotalLoss kills every node of a three-node cluster at once
// (SIGKILL), wipes their data directories, and starts them again empty.
// Live clients keep beating every 5 s, as Nacos clients do; their full
// beats re-register what was lost, so every instance is back, healthy, on
// every node within one beat interval of the cluster being ready (plus
// replication), with no help from the clients beyond beating.
func TestClusterTotalLoss(t *testing.T) {
	const (
		interval  = 5 * time.Second
		instances = 30
		services  = 5
	)
	ps := startCluster3(t)
	c := &rcluster{t: t, ps: ps}
	for _, p := range ps {
		c.members = append(c.members, p.httpAddr)
	}
	w := newWorkload(c)
	t.Cleanup(w.finish)
	var svcs []string
	for i := 0; i < services; i++ {
		svcs = append(svcs, fmt.Sprintf("loss-svc-%d", i))
	}
	for i := 0; i < instances; i++ {
		r := instRef{svc: svcs[i%services], ip: fmt.Sprintf("10.66.0.%d", i+1), port: 7000}
		w.wg.Add(1)
		go w.beater(r, interval, uint64(i))
	}
	allBack := func() bool {
		w.mu.Lock()
		n := len(w.beating)
		w.mu.Unlock()
		if n < instances {
			return false
		}
		problems, _ := w.divergences(svcs)
		return len(problems) == 0
	}
	waitFor(t, 20*time.Second, "every instance on every node", allBack)

	for _, p := range ps {
		p.kill()
	}
	for _, p := range ps {
		if err := os.RemoveAll(p.dataDir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(p.dataDir, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range ps {
		p.launch()
	}
	for _, p := range ps {
		p.waitReady()
	}
	ready := time.Now()
	for _, svc := range svcs {
		if hosts, err := w.listOn(0, svc); err == nil && len(hosts) == instances/services {
			t.Logf("%s was back before the cluster was ready", svc)
		}
	}
	limit := interval + 3*time.Second // one beat interval, plus Raft election and replication
	var lastProblem string
	deadline := ready.Add(limit)
	for {
		problems, _ := w.divergences(svcs)
		if len(problems) == 0 {
			break
		}
		lastProblem = fmt.Sprintf("%d problems, e.g. %s", len(problems), strings.TrimSpace(problems[0]))
		if time.Now().After(deadline) {
			t.Fatalf("instances of live clients not back %v after the cluster was ready: %s", limit, lastProblem)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("all %d instances of live clients back on every node %v after the wiped cluster was ready (beat interval %v)",
		instances, time.Since(ready).Round(10*time.Millisecond), interval)
}
