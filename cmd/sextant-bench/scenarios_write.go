package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// maxOpsPerSecond bounds the operation count of a timed closed loop, far
// above anything this machine reaches.
const maxOpsPerSecond = 200000

func opBound(d time.Duration) int64 { return int64(d.Seconds()*maxOpsPerSecond) + 1 }

// scenarioRegister: ephemeral registrations through HTTP on a 3-node
// cluster, clients spread over the nodes, each registration a new instance.
func (h *harness) scenarioRegister(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 3)
	if err != nil {
		return err
	}
	const services = 100
	svc := func(i int) string { return fmt.Sprintf("reg-%03d", i%services) }
	// Create the services first: their creation goes through Raft and is
	// not what this scenario measures.
	if _, err := h.populate(ctx, nodes, services, 16, true, keepAlive, func(i int) inst {
		return inst{svc(i), instanceIP(i), 9000}
	}); err != nil {
		return err
	}
	pids := pidsOf(nodes)
	useWrk := o.httpLoad == "wrk" || (o.httpLoad == "auto" && h.tools.wrk != "")
	if o.httpLoad == "wrk" && h.tools.wrk == "" {
		return fmt.Errorf("wrk is not installed (apt-get install wrk, or --http-load go)")
	}
	cpu := startCPU(pids...)
	stop := h.profile("register", pids)
	var (
		rate        float64
		elapsed     time.Duration
		acked       int64
		failed, gen string
		latency     string
		addrs       []string
	)
	for _, nd := range nodes {
		addrs = append(addrs, nd.http)
	}
	if useWrk {
		gen = "wrk (one -t1 process per node, Lua script posting a new instance per request)"
		res, err := h.wrkRegister(ctx, addrs, services, o.regClients, o.duration)
		if err != nil {
			stop()
			return err
		}
		var p50, p99 []string
		for _, r := range res {
			acked += r.Requests
			elapsed = max(elapsed, r.Elapsed)
			if r.Failed != "" {
				failed = r.Failed
			}
			p50, p99 = append(p50, fmtDur(r.P50)), append(p99, fmtDur(r.P99))
		}
		if elapsed > 0 {
			rate = float64(acked) / elapsed.Seconds()
		}
		latency = fmt.Sprintf("p50 %s, p99 %s (per node)", strings.Join(p50, " / "), strings.Join(p99, " / "))
	} else {
		gen = "Go generator"
		r := runClosedLoop(ctx, o.regClients, o.duration, opBound(o.duration), func(ctx context.Context, _ int, seq int64) error {
			k := services + int(seq)
			nd := nodes[int(seq)%len(nodes)]
			return httpOp(ctx, "POST", nd.http, "/nacos/v1/ns/instance", registerForm(svc(k), instanceIP(k), 9000, true, keepAlive), "", nil)
		})
		rate, elapsed, acked, latency = r.Rate(), r.Elapsed, r.OK, summarize(r.Lat).String()
		if r.Failed > 0 {
			failed = fmt.Sprintf("%d failed: %s", r.Failed, oneLine(r.FirstErr))
		}
	}
	used := cpu.used()
	stop()
	// Every acknowledged registration must be held by every node; up to
	// one per connection more, answered after the generator stopped counting.
	want := int64(services) + acked
	held, herr := h.waitHeld(ctx, addrs, services, svc, want, want+int64(o.regClients), time.Minute)
	note := fmt.Sprintf("%d clients (%s), spread over 3 nodes, %d services; %s; cluster CPU %.0f µs/registration; %d acknowledged, held by the nodes afterwards: %v",
		o.regClients, gen, services, latency, perOp(used, rate, elapsed), acked, held)
	ok := failed == "" && herr == nil
	if failed != "" {
		note += "; " + failed
	}
	if herr != nil {
		note += "; " + herr.Error()
	}
	rep.add(row{Scenario: "register", Metric: "ephemeral registrations/s (3 nodes)", Sextant: fmtCount(rate),
		Refs: "Nacos 2.0: 26,785 on 3 × 8 cores; Nacos 1.0: 13,000 on 3 × 16 cores (published)", Target: "≥ 10,000/s",
		Verdict: judge(rate >= 10000 && ok), Note: note})
	return nil
}

// waitHeld waits until every node lists between want and most instances
// in the services svc(0..services-1), and returns what each node held at
// the end.
func (h *harness) waitHeld(ctx context.Context, addrs []string, services int, svc func(int) string, want, most int64, timeout time.Duration) ([]int64, error) {
	held := make([]int64, len(addrs))
	err := poll(ctx, timeout, 500*time.Millisecond, func() (bool, error) {
		all := true
		for i, addr := range addrs {
			var n int64
			for k := 0; k < services; k++ {
				code, body, err := httpDo(ctx, "GET", addr, listPath(svc(k), nil), nil, "")
				if err != nil || code != 200 {
					return false, nil
				}
				var l listHosts
				if err := json.Unmarshal(body, &l); err != nil {
					return false, err
				}
				n += int64(len(l.Hosts))
			}
			held[i] = n
			all = all && n >= want && n <= most
		}
		return all, nil
	})
	if err != nil {
		return held, fmt.Errorf("nodes hold %v instances, expected %d to %d: %v", held, want, most, err)
	}
	return held, nil
}

func pidsOf(nodes []*node) []int {
	var p []int
	for _, nd := range nodes {
		p = append(p, nd.pid())
	}
	return p
}

// scenarioPersistent: persistent registrations (Raft, fsync on) on 3 nodes
// at each concurrency, spread over the nodes and to the leader; etcd puts
// of 256 bytes at the same concurrency when etcd is installed.
func (h *harness) scenarioPersistent(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 3)
	if err != nil {
		return err
	}
	leader, err := waitLeader(ctx, nodes, 30*time.Second)
	if err != nil {
		return err
	}
	// Enough services that no round fills one past the default
	// max-instances-per-service (10,000): at 6,000 writes/s, the rounds
	// of one concurrency register some 200,000 instances.
	const services = 100
	svc := func(c, i int) string { return fmt.Sprintf("pst-%d-%03d", c, i%services) }
	for _, c := range o.persistConcs {
		for i := 0; i < services; i++ {
			if err := createService(ctx, leader, svc(c, i)); err != nil {
				return fmt.Errorf("create %s: %w", svc(c, i), err)
			}
			if err := disableProbes(ctx, leader, svc(c, i)); err != nil {
				return err
			}
		}
	}
	var ms []*etcdMember
	var el *etcdMember
	etcdErr := error(nil)
	if h.tools.etcd == "" {
		etcdErr = fmt.Errorf("etcd not installed (apt-get install etcd-server etcd-client, or --install-refs)")
	} else if ms, etcdErr = h.startEtcd(ctx); etcdErr == nil {
		el, etcdErr = etcdLeader(ctx, ms)
	}
	if etcdErr != nil {
		rep.note("persistent: etcd skipped: %s", oneLine(etcdErr.Error()))
	}
	base := int64(2_000_000)
	// closed runs a closed loop and keeps its latencies and failures.
	type outcome struct {
		lat    []time.Duration
		failed int64
		first  string
	}
	closed := func(out *outcome, c int, op opFunc) func(ctx context.Context) (float64, float64, error) {
		return func(ctx context.Context) (float64, float64, error) {
			r := runClosedLoop(ctx, c, o.duration, opBound(o.duration), op)
			out.lat = append(out.lat, r.Lat...)
			out.failed += r.Failed
			if out.first == "" {
				out.first = r.FirstErr
			}
			return r.Rate(), float64(r.OK), nil
		}
	}
	sxOp := func(c int, target func(seq int64) *node) opFunc {
		return func(ctx context.Context, _ int, seq int64) error {
			k := int(atomicAddBase(&base))
			return httpOp(ctx, "POST", target(seq).http, "/nacos/v1/ns/instance", registerForm(svc(c, k), instanceIP(k), 9000, false, ""), "", nil)
		}
	}
	var etcdPids []int
	for _, m := range ms {
		etcdPids = append(etcdPids, m.pid())
	}
	for _, c := range o.persistConcs {
		wheres := []string{"spread over nodes", "to the leader"}
		sxs := make([]*system, 2)
		ets := make([]*system, 2)
		outs := make([]*outcome, 4)
		for i := range outs {
			outs[i] = &outcome{}
		}
		sxs[0] = &system{name: fmt.Sprintf("sextant %d writers spread", c), pids: pidsOf(nodes),
			run: closed(outs[0], c, sxOp(c, func(seq int64) *node { return nodes[int(seq)%len(nodes)] }))}
		sxs[1] = &system{name: fmt.Sprintf("sextant %d writers to the leader", c), pids: pidsOf(nodes),
			run: closed(outs[1], c, sxOp(c, func(int64) *node { return leader }))}
		systems := []*system{sxs[0], sxs[1]}
		if etcdErr == nil {
			ets[0] = &system{name: fmt.Sprintf("etcd %d writers spread", c), pids: etcdPids,
				run: closed(outs[2], c, etcdPutOp(fmt.Sprintf("s%d/", c), func(seq int64) string { return ms[int(seq)%len(ms)].client }))}
			ets[1] = &system{name: fmt.Sprintf("etcd %d writers to the leader", c), pids: etcdPids,
				run: closed(outs[3], c, etcdPutOp(fmt.Sprintf("l%d/", c), func(int64) string { return el.client }))}
			systems = []*system{sxs[0], ets[0], sxs[1], ets[1]}
		}
		measureRounds(ctx, h, o.rounds, systems...)
		for i, where := range wheres {
			sx, out := sxs[i], outs[i]
			if !sx.ok() {
				rep.add(row{Scenario: "persistent", Metric: fmt.Sprintf("registrations/s, %d writers, %s", c, where), Note: "no result"})
				continue
			}
			note := fmt.Sprintf("best of %d rounds of %v (rounds %s); %s; cluster CPU %s/write", o.rounds, o.duration, sx.roundsText(), summarize(out.lat), fmtDur(sx.cpuPerOp()))
			if out.failed > 0 {
				note += fmt.Sprintf("; %d failed: %s", out.failed, oneLine(out.first))
			}
			rw := row{Scenario: "persistent", Metric: fmt.Sprintf("registrations/s, %d writers, %s", c, where), Sextant: fmtCount(sx.best), Note: note,
				Target: "≥ 1.0× etcd (aim 2×)"}
			if e := ets[i]; e != nil && e.ok() {
				eo := outs[2+i]
				rw.Refs = fmt.Sprintf("etcd, 3 members, 256 B puts via its HTTP gateway: %s/s (rounds %s; %s; CPU %s/put)", fmtCount(e.best), e.roundsText(), summarize(eo.lat), fmtDur(e.cpuPerOp()))
				if eo.failed > 0 {
					rw.Refs += fmt.Sprintf(", %d failed: %s", eo.failed, oneLine(eo.first))
				}
				rw.Ratio = ratio(sx.best, e.best)
				rw.Verdict = judge(sx.best >= e.best && out.failed == 0)
			} else {
				rw.Refs = "etcd 3.4: ~4,700 (leader) / ~2,950 (spread) puts/s at 16 writers (issue figure, not this run)"
			}
			rep.add(rw)
		}
	}
	return nil
}

func atomicAddBase(p *int64) int64 { return atomic.AddInt64(p, 1) }
