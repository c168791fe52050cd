package main

import (
	"context"
	"fmt"
	"sync"
)

// scenarioDNSChurn: the records of the dns scenario on one node, measured
// quiet and while --churn-writes registrations per second land on the
// services being queried (each an instance registered again with another
// weight, so the SRV answers change and the number of records stays), the
// two taking turns round by round; Knot DNS serves the same records as
// the reference, when installed.
// churnWorkers is how many writers send the churn's writes, each on its
// own connection: at 2,000 writes/s and well under a millisecond a write,
// a few are in flight at once.
const churnWorkers = 16

func (h *harness) scenarioDNSChurn(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 1)
	if err != nil {
		return err
	}
	nd := nodes[0]
	d, err := h.dnsRecords(ctx, nodes, "dnsc")
	if err != nil {
		return err
	}
	load := h.dnsRun(d)
	total := o.dnsServices * o.dnsInstances
	quiet := &system{name: "sextant quiet", pids: []int{nd.pid()}, run: load(nd.dns)}
	var mu sync.Mutex
	var writes []pacedResult
	churn := &system{name: "sextant under writes", pids: []int{nd.pid()}, run: func(ctx context.Context) (float64, float64, error) {
		wctx, cancel := context.WithCancel(ctx)
		var w pacedResult
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The writer sends on kept connections with forms built in
			// place (net/http's client cost ~120-170 µs of CPU a write
			// here, a sixth of the machine at 2,000 writes/s, taken
			// from the DNS load rather than from the server).
			lw := newLeanWriters(churnWorkers, nd.http)
			defer lw.Close()
			w = runPaced(wctx, churnWorkers, float64(o.churnWrites), o.duration, func(ctx context.Context, worker int, seq int64) error {
				return lw.reregister(ctx, worker, d.instance(int(seq)%total, o.dnsInstances), seq/int64(total)+1, keepAlive)
			})
		}()
		qps, ops, err := load(nd.dns)(ctx)
		cancel()
		wg.Wait()
		mu.Lock()
		writes = append(writes, w)
		mu.Unlock()
		if err == nil && w.OK == 0 {
			err = fmt.Errorf("no write succeeded: %s", w.FirstErr)
		}
		return qps, ops, err
	}}
	systems := []*system{quiet, churn}
	knot := h.knotSystem(ctx, d)
	if knot.run != nil {
		systems = append(systems, knot)
	} else {
		rep.note("dnschurn: Knot skipped: %s", oneLine(knot.err.Error()))
	}
	gen := h.dnsGenerator()
	h.logf("dnschurn: %s, %d rounds of %v, %d writes/s in the writing rounds", gen, o.rounds, o.duration, o.churnWrites)
	measureRounds(ctx, h, o.rounds, systems...)
	if !quiet.ok() || !churn.ok() {
		return fmt.Errorf("sextant: quiet: %v, under writes: %v", quiet.err, churn.err)
	}
	var wnotes []string
	for _, w := range writes {
		wnotes = append(wnotes, fmt.Sprintf("%s/s (%d failed, latency %s, lag at most %s)", fmtCount(w.Rate()), w.Failed, summarize(w.Lat), fmtDur(w.MaxLag)))
	}
	size := fmt.Sprintf("%d services × %d instances", o.dnsServices, o.dnsInstances)
	rep.add(row{Scenario: "dnschurn", Metric: fmt.Sprintf("queries/s while %s registrations/s land", fmtCount(float64(o.churnWrites))),
		Sextant: fmtCount(churn.best), Refs: fmt.Sprintf("Sextant quiet %s (rounds %s)", fmtCount(quiet.best), quiet.roundsText()),
		Ratio: ratio(churn.best, quiet.best), Target: "≥ 0.8× its quiet figure", Verdict: judge(churn.best >= 0.8*quiet.best),
		Note: fmt.Sprintf("%s, best of %d rounds of %v (rounds %s); %s; writes achieved per round: %s; the writer runs on the same cores",
			gen, o.rounds, o.duration, churn.roundsText(), size, joinRefs(wnotes))})
	r := row{Scenario: "dnschurn", Metric: "queries/s quiet vs Knot DNS", Sextant: fmtCount(quiet.best), Target: "≥ 1.0× Knot",
		Note: fmt.Sprintf("%s; server CPU per query: quiet %s, under writes %s", size, fmtDur(quiet.cpuPerOp()), fmtDur(churn.cpuPerOp()))}
	if knot.ok() {
		r.Refs = fmt.Sprintf("Knot %s (rounds %s)", fmtCount(knot.best), knot.roundsText())
		r.Ratio, r.Verdict = ratio(quiet.best, knot.best), judge(quiet.best >= knot.best)
	} else if knot.err != nil {
		r.Refs = "Knot: " + oneLine(knot.err.Error())
	}
	rep.add(r)
	return nil
}
