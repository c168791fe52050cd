package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// scenarioLarge: --large-services services of --large-instances instances
// on one node; for --duration, --large-churn percent of all instances
// change each second (each a registration again with another weight, so
// every change is one instance of a large service) while --large-pollers
// clients poll the services' lists. It reports the polls answered, their
// latency, the changes applied and the node's CPU per change and poll;
// the package benchmarks give the cost of one change and of a list cache
// miss at 10,000 instances.
func (h *harness) scenarioLarge(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 1)
	if err != nil {
		return err
	}
	nd := nodes[0]
	total := o.largeServices * o.largeInstances
	at := func(i int) inst {
		return inst{fmt.Sprintf("large-%02d", i%o.largeServices), instanceIP(i), 8080}
	}
	reg, err := h.populate(ctx, nodes, total, 64, true, keepAlive, at)
	if err != nil {
		return err
	}
	h.logf("large: %d instances in %d services registered at %s/s", total, o.largeServices, fmtCount(reg.Rate()))
	instanceKey := []byte(`"instanceId"`)
	countHosts := func(ctx context.Context, service string) (int, int, error) {
		code, body, err := httpDo(ctx, "GET", nd.http, listPath(service, nil), nil, "")
		if err != nil {
			return 0, 0, err
		}
		if code != 200 {
			return 0, 0, fmt.Errorf("instance/list %s: %d %s", service, code, clip(body))
		}
		return bytes.Count(body, instanceKey), len(body), nil
	}
	bodySize := 0
	for s := 0; s < o.largeServices; s++ {
		service := at(s).service
		if err := poll(ctx, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
			n, size, err := countHosts(ctx, service)
			bodySize = size
			return err == nil && n == o.largeInstances, nil
		}); err != nil {
			return fmt.Errorf("%s never listed %d instances: %w", service, o.largeInstances, err)
		}
	}

	rate := float64(total) * o.largeChurn / 100
	cpu := startCPU(nd.pid())
	var churn pacedResult
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		churn = runPaced(ctx, 32, rate, o.duration, func(ctx context.Context, _ int, seq int64) error {
			return reregister(ctx, nd, at(int(seq)%total), seq/int64(total)+1, keepAlive)
		})
	}()
	polls := runClosedLoop(ctx, o.largePollers, o.duration, 0, func(ctx context.Context, _ int, seq int64) error {
		n, _, err := countHosts(ctx, at(int(seq)%o.largeServices).service)
		if err == nil && n != o.largeInstances {
			err = fmt.Errorf("a list of %d hosts, want %d", n, o.largeInstances)
		}
		return err
	})
	wg.Wait()
	used := cpu.used()
	if churn.OK == 0 || polls.OK == 0 {
		return fmt.Errorf("large: %d changes (%s), %d polls (%s)", churn.OK, churn.FirstErr, polls.OK, polls.FirstErr)
	}
	size := fmt.Sprintf("%d × %s", o.largeServices, fmtCount(float64(o.largeInstances)))
	lat := summarize(polls.Lat)
	rep.add(row{Scenario: "large", Metric: "list polls/s while instances change, " + size, Sextant: fmtCount(polls.Rate()),
		Note: fmt.Sprintf("%d pollers, lists of %s; latency %s; %d failed polls%s", o.largePollers, fmtBytes(int64(bodySize)),
			lat, polls.Failed, firstErr(polls))})
	rep.add(row{Scenario: "large", Metric: "changes/s applied, " + size, Sextant: fmtCount(churn.Rate()),
		Refs:  fmt.Sprintf("offered %s/s (%.1f %% of the instances per second)", fmtCount(rate), o.largeChurn),
		Ratio: ratio(churn.Rate(), rate), Target: "the offered rate", Verdict: judge(churn.Rate() >= 0.95*rate && churn.Failed == 0),
		Note: fmt.Sprintf("one registration again (weight changed) per change; latency %s; %d failed%s; generator lag at most %s; node CPU %s per change or poll over the same %v",
			summarize(churn.Lat), churn.Failed, firstErr(churn.loadResult), fmtDur(churn.MaxLag),
			fmtDur(time.Duration(float64(used)/float64(churn.OK+polls.OK))), o.duration)})
	if !o.skipBench {
		h.largeBenchRows(ctx, rep)
	}
	return nil
}

// largeBenchRows adds the package benchmarks of target 1: one change and
// one list cache miss in a service of 10,000 instances.
func (h *harness) largeBenchRows(ctx context.Context, rep *report) {
	for _, b := range []struct {
		pkg, pattern, metric, target string
		ok                           func(f benchFigures) bool
	}{
		{"./naming/", "BenchmarkLargeServiceFlip$", "one health flip in a 10,000-instance service", "≤ 10 µs and ≤ 2 KB",
			func(f benchFigures) bool { return f.ns <= 10000 && f.bytes <= 2048 }},
		{"./naming/", "BenchmarkLargeServiceRegister$", "one registration in a 10,000-instance service", "≤ 10 µs and ≤ 2 KB",
			func(f benchFigures) bool { return f.ns <= 10000 && f.bytes <= 2048 }},
		{"./naming/", "BenchmarkLargeServiceMerge$", "one merged instance (peer) in a 10,000-instance service", "≤ 10 µs and ≤ 2 KB",
			func(f benchFigures) bool { return f.ns <= 10000 && f.bytes <= 2048 }},
		// No target: what a change costs when a reader then needs the
		// whole list of the new view (the DNS index, a list render).
		{"./naming/", "BenchmarkLargeServiceFlipRead$", "one health flip, then the first read of the whole instance list", "—", nil},
		{"./httpfront/", "BenchmarkListMissLarge$", "list cache miss after one change, 10,000 instances", "≤ 2 ms",
			func(f benchFigures) bool { return f.ns <= 2e6 }},
	} {
		f, err := runBench(ctx, b.pkg, b.pattern, "2000x")
		r := row{Scenario: "large", Metric: b.metric, Target: b.target}
		if err != nil {
			r.Note = oneLine(err.Error())
		} else {
			r.Sextant = fmt.Sprintf("%s, %s", fmtDur(time.Duration(f.ns)), fmtBytes(int64(f.bytes)))
			if b.ok != nil {
				r.Verdict = judge(b.ok(f))
			}
			r.Note = "go test -bench " + b.pattern + " -benchmem " + b.pkg + ": " + f.line
		}
		rep.add(r)
	}
}

// benchFigures is one line of `go test -bench -benchmem` output.
type benchFigures struct {
	ns, bytes float64
	allocs    int
	line      string
}

// runBench runs one package benchmark of the source tree for benchtime
// and returns its figures.
func runBench(ctx context.Context, pkg, pattern, benchtime string) (benchFigures, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	out, err := runGoTest(ctx, "-run", "^$", "-bench", pattern, "-benchmem", "-benchtime", benchtime, pkg)
	if err != nil {
		return benchFigures{}, fmt.Errorf("go test -bench %s %s: %v: %s", pattern, pkg, err, oneLine(tail(out, 300)))
	}
	return parseBench(out)
}

// parseBench reads the first benchmark line of `go test -bench -benchmem`.
func parseBench(out []byte) (benchFigures, error) {
	for _, l := range regexp.MustCompile(`\r?\n`).Split(string(out), -1) {
		m := benchLine.FindStringSubmatch(l)
		if m == nil || m[4] == "" {
			continue
		}
		f := benchFigures{line: l}
		f.ns, _ = strconv.ParseFloat(m[2], 64)
		f.bytes, _ = strconv.ParseFloat(m[3], 64)
		f.allocs, _ = strconv.Atoi(m[4])
		f.line = fmt.Sprintf("%s %s ns/op %s B/op %s allocs/op", m[1], m[2], m[3], m[4])
		return f, nil
	}
	return benchFigures{}, fmt.Errorf("no benchmark line in the output")
}

// firstErr is "; first error: …" when r has one.
func firstErr(r loadResult) string {
	if r.FirstErr == "" {
		return ""
	}
	return "; first error: " + oneLine(r.FirstErr)
}
