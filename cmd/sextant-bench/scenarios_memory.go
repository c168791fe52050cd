package main

import (
	"context"
	"fmt"
	"time"
)

// memoryTarget is the bound for 1,000,000 ephemeral instances (the
// second performance round's; the first asked for 1.5 GiB).
const (
	memoryTarget          = 400 << 20
	memoryTargetInstances = 1000000
)

// scenarioMemory: many ephemeral instances registered into one node; its
// RSS before and after gives the bytes each instance costs.
func (h *harness) scenarioMemory(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 1)
	if err != nil {
		return err
	}
	nd := nodes[0]
	time.Sleep(time.Second) // let the fresh process settle before the baseline
	base, err := nd.mem()
	if err != nil {
		return err
	}
	const perService = 100
	stop := h.profile("memory", []int{nd.pid()})
	r, err := h.populate(ctx, nodes, o.memInstances, 128, true, keepAlive, func(i int) inst {
		return inst{fmt.Sprintf("mem-%05d", i/perService), instanceIP(i), 8000}
	})
	stop()
	if err != nil {
		return err
	}
	// Give the runtime a moment (GC, freed request buffers) before reading.
	time.Sleep(3 * time.Second)
	after, err := nd.mem()
	if err != nil {
		return err
	}
	bpi := float64(after.RSS-base.RSS) / float64(o.memInstances)
	projected := float64(base.RSS) + bpi*memoryTargetInstances
	verdict := judge(projected <= memoryTarget)
	what := "projected for 1,000,000"
	if o.memInstances >= memoryTargetInstances {
		verdict = judge(after.RSS <= memoryTarget)
		what = "measured"
	}
	note := fmt.Sprintf("%s instances in %d services, each with 2 metadata entries (long beat timeouts); baseline RSS %s, peak (VmHWM) %s; registered at %s/s (one node, 128 clients); %s: %s",
		fmtCount(float64(o.memInstances)), (o.memInstances+perService-1)/perService, fmtBytes(base.RSS), fmtBytes(after.HWM), fmtCount(r.Rate()), what, fmtBytes(int64(projected)))
	rep.add(row{Scenario: "memory", Metric: fmt.Sprintf("RSS with %s instances", fmtCount(float64(o.memInstances))), Sextant: fmtBytes(after.RSS),
		Target: "≤ 400 MiB at 1,000,000", Verdict: verdict, Note: note})
	rep.add(row{Scenario: "memory", Metric: "bytes per instance", Sextant: fmtCount(bpi), Note: "(RSS after − RSS before) / instances"})
	return nil
}
