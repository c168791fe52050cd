package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// scenarioFailover: a 3-node cluster's Raft leader is killed; the time to
// the first persistent write committed through a survivor is measured,
// over several runs (the killed node comes back between runs).
func (h *harness) scenarioFailover(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 3)
	if err != nil {
		return err
	}
	leader, err := waitLeader(ctx, nodes, 30*time.Second)
	if err != nil {
		return err
	}
	const service = "failover"
	if err := createService(ctx, leader, service); err != nil {
		return err
	}
	if err := disableProbes(ctx, leader, service); err != nil {
		return err
	}
	var times []time.Duration
	var runs []string
	k := 9_000_000
	for run := 0; run < o.failoverRuns; run++ {
		if leader, err = waitLeader(ctx, nodes, 30*time.Second); err != nil {
			return err
		}
		var survivors []*node
		for _, nd := range nodes {
			if nd != leader {
				survivors = append(survivors, nd)
			}
		}
		leader.kill()
		t0 := time.Now()
		var took time.Duration
		attempts := 0
		err := poll(ctx, 30*time.Second, 20*time.Millisecond, func() (bool, error) {
			attempts++
			k++
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			err := httpOp(rctx, "POST", survivors[attempts%2].http, "/nacos/v1/ns/instance", registerForm(service, instanceIP(k), 9000, false, ""), "", nil)
			if err == nil {
				took = time.Since(t0)
				return true, nil
			}
			return false, nil
		})
		if err != nil {
			runs = append(runs, "none within 30 s")
		} else {
			times = append(times, took)
			runs = append(runs, fmtDur(took))
		}
		h.logf("failover run %d: %s (%d attempts)", run+1, runs[len(runs)-1], attempts)
		if err := leader.restart(); err != nil {
			return err
		}
		if err := leader.waitReady(ctx, 60*time.Second); err != nil {
			return err
		}
	}
	med := median(times)
	rep.add(row{Scenario: "failover", Metric: "leader killed → first committed persistent write (median)", Sextant: fmtDur(med),
		Target: "median < 3 s", Verdict: judge(len(times) == o.failoverRuns && med < 3*time.Second),
		Note: fmt.Sprintf("%d runs: %s; writes retried every 20 ms through the survivors, 2 s timeout each", o.failoverRuns, strings.Join(runs, ", "))})
	return nil
}
