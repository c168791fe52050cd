package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// freshPoll is how often the freshness scenario asks whether a write is
// visible: the resolution of its delays.
const freshPoll = time.Millisecond

// freshTimeout bounds the wait for one write to be visible on one node.
const freshTimeout = 10 * time.Second

// scenarioFreshness: on a 3-node cluster, --fresh-writes registrations,
// one at a time, each of a new instance of a new service, sent to the
// nodes in turn. From each acknowledgement the scenario polls every node
// (every millisecond) for the instance in the DNS answer of the service
// and in its instance/list, and reports the delays on the node that took
// the write and on the others, p50 and p99.
func (h *harness) scenarioFreshness(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 3)
	if err != nil {
		return err
	}
	// delays[kind][local]: kind 0 DNS, 1 list; local 1 on the node that took the write.
	var delays [2][2][]time.Duration
	missed := 0
	var firstMiss string
	for k := 0; k < o.freshWrites && ctx.Err() == nil; k++ {
		service := fmt.Sprintf("fresh-%05d", k)
		ip := instanceIP(k)
		took := k % len(nodes)
		if err := httpOp(ctx, "POST", nodes[took].http, "/nacos/v1/ns/instance", registerForm(service, ip, 8080, true, keepAlive), "", nil); err != nil {
			return fmt.Errorf("write %d: %w", k, err)
		}
		acked := time.Now()
		q := mustPack(dnsQuery{service + ".service." + zone, dns.TypeA})
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i, nd := range nodes {
			local := 0
			if i == took {
				local = 1
			}
			for kind, see := range []func() bool{
				func() bool { raw, err := exchangeRaw(nd.dns, q, time.Second); return err == nil && hasAddress(raw, ip) },
				func() bool { return listHas(ctx, nd.http, service, ip) },
			} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					d, err := waitSeen(ctx, acked, freshTimeout, freshPoll, see)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						missed++
						if firstMiss == "" {
							firstMiss = fmt.Sprintf("%s on %s: %v", service, nd.name, err)
						}
						return
					}
					delays[kind][local] = append(delays[kind][local], d)
				}()
			}
		}
		wg.Wait()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	note := fmt.Sprintf("%d writes, one at a time, each a new service, to the 3 nodes in turn; polled every %v from the acknowledgement; %d (node, answer) pairs not seen within %v",
		o.freshWrites, freshPoll, missed, freshTimeout)
	if firstMiss != "" {
		note += "; first: " + oneLine(firstMiss)
	}
	for kind, what := range []string{"DNS answer", "instance/list"} {
		for local, where := range []string{"the other nodes", "the node that took it"} {
			ds := delays[kind][local]
			if len(ds) == 0 {
				rep.add(row{Scenario: "freshness", Metric: "write → " + what + ", " + where, Note: note})
				continue
			}
			p50, p99 := percentile(ds, 50), percentile(ds, 99)
			limit, target := time.Second, "p99 ≤ 1 s"
			if local == 1 {
				limit, target = 50*time.Millisecond, "p99 ≤ 50 ms"
			}
			rep.add(row{Scenario: "freshness", Metric: "write → " + what + ", " + where + " (p50 / p99)",
				Sextant: fmtDur(p50) + " / " + fmtDur(p99), Target: target, Verdict: judge(p99 <= limit && missed == 0),
				Note: fmt.Sprintf("%s; %d delays, max %s", note, len(ds), fmtDur(percentile(ds, 100)))})
		}
	}
	return nil
}
