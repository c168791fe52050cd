package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/miekg/dns"
)

// gatewayTimeout bounds the wait for one change to reach the gateway:
// pushes arrive in about a second, polls every 10 s at the latest.
const gatewayTimeout = 15 * time.Second

// scenarioGateway: the records of the dns scenario on one node, followed
// by `sextant gateway` (push on, on-demand following: every service is
// queried once before the measurement). It measures the gateway's DNS
// queries/s, answered from its memory, with the node's own DNS as the
// reference in the same rounds; then --gateway-changes times a new
// instance registered on the node and the delay until the gateway's DNS
// answer holds it, p50 and p99.
func (h *harness) scenarioGateway(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 1)
	if err != nil {
		return err
	}
	nd := nodes[0]
	d, err := h.dnsRecords(ctx, nodes, "gw")
	if err != nil {
		return err
	}
	gw, gdns, err := h.startGateway(ctx, nd, d.dir)
	if err != nil {
		return err
	}
	// The first query of a service makes the gateway follow it.
	for _, q := range d.qs {
		if err := poll(ctx, 15*time.Second, 20*time.Millisecond, func() (bool, error) {
			raw, err := exchangeRaw(gdns, mustPack(q), 2*time.Second)
			var m dns.Msg
			return err == nil && m.Unpack(raw) == nil && len(m.Answer) > 0, nil
		}); err != nil {
			return fmt.Errorf("gateway never answered %s: %w", q.name, err)
		}
	}
	load := h.dnsRun(d)
	gsys := &system{name: "gateway", pids: []int{gw.pid()}, run: load(gdns)}
	node := &system{name: "sextant node", pids: []int{nd.pid()}, run: load(nd.dns)}
	gen := h.dnsGenerator()
	h.logf("gateway: %s, %d rounds of %v", gen, o.rounds, o.duration)
	measureRounds(ctx, h, o.rounds, gsys, node)
	if !gsys.ok() {
		return fmt.Errorf("gateway: %w", gsys.err)
	}
	r := row{Scenario: "gateway", Metric: "DNS queries/s from the gateway's memory", Sextant: fmtCount(gsys.best),
		Note: fmt.Sprintf("%s, best of %d rounds of %v (rounds %s); %d services × %d instances; CPU per query: gateway %s",
			gen, o.rounds, o.duration, gsys.roundsText(), o.dnsServices, o.dnsInstances, fmtDur(gsys.cpuPerOp()))}
	if node.ok() {
		r.Refs = fmt.Sprintf("the node's own DNS %s (rounds %s, CPU %s per query)", fmtCount(node.best), node.roundsText(), fmtDur(node.cpuPerOp()))
		r.Ratio = ratio(gsys.best, node.best)
	} else if node.err != nil {
		r.Refs = "the node's own DNS: " + oneLine(node.err.Error())
	}
	rep.add(r)

	var delays []time.Duration
	missed := 0
	for k := 0; k < o.gatewayChanges && ctx.Err() == nil; k++ {
		in := inst{d.services[k%len(d.services)], instanceIP(o.dnsServices*o.dnsInstances + k), 9000}
		if err := httpOp(ctx, "POST", nd.http, "/nacos/v1/ns/instance", registerForm(in.service, in.ip, in.port, true, keepAlive), "", nil); err != nil {
			return fmt.Errorf("change %d: %w", k, err)
		}
		acked := time.Now()
		q := mustPack(dnsQuery{in.service + ".service." + zone, dns.TypeA})
		dl, err := waitSeen(ctx, acked, gatewayTimeout, 5*time.Millisecond, func() bool {
			raw, err := exchangeRaw(gdns, q, time.Second)
			return err == nil && hasAddress(raw, in.ip)
		})
		if err != nil {
			missed++
			continue
		}
		delays = append(delays, dl)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	cr := row{Scenario: "gateway", Metric: "change on the node → gateway DNS answer (p50 / p99)", Target: "—",
		Note: fmt.Sprintf("%d changes (a new instance each), polled every 5 ms from the acknowledgement; %d not seen within %v; the gateway receives pushes on 127.0.0.1",
			o.gatewayChanges, missed, gatewayTimeout)}
	if len(delays) > 0 {
		cr.Sextant = fmtDur(percentile(delays, 50)) + " / " + fmtDur(percentile(delays, 99))
		cr.Note += fmt.Sprintf("; max %s", fmtDur(percentile(delays, 100)))
	}
	rep.add(cr)
	return nil
}

// startGateway runs `sextant gateway` following nd, with pushes to
// 127.0.0.1, and returns it with its DNS address once it is ready.
func (h *harness) startGateway(ctx context.Context, nd *node, dir string) (*child, string, error) {
	taken := map[int]bool{}
	dp, err := pickUDPTCPPort(taken)
	if err != nil {
		return nil, "", err
	}
	hp, err := pickUDPTCPPort(taken)
	if err != nil {
		return nil, "", err
	}
	gdns, ghttp := fmt.Sprintf("127.0.0.1:%d", dp), fmt.Sprintf("127.0.0.1:%d", hp)
	c, err := h.procs.start("gateway", h.bin, filepath.Join(dir, "gateway.log"), "gateway",
		"--servers", nd.http, "--dns-addr", gdns, "--http-addr", ghttp, "--cache-dir", filepath.Join(dir, "gateway-cache"),
		"--snapshot=false", "--load-cache-at-start=false", "--push=true", "--push-addr", "127.0.0.1:0", "--client-ip", "127.0.0.1",
		"--log-level", "warn")
	if err != nil {
		return nil, "", err
	}
	if err := poll(ctx, 30*time.Second, 50*time.Millisecond, func() (bool, error) {
		if done, err := c.exited(); done {
			return false, fmt.Errorf("gateway exited: %v\n%s", err, c.logTail())
		}
		code, _, err := httpDo(ctx, "GET", ghttp, "/gateway/status", nil, "")
		return err == nil && code == 200, nil
	}); err != nil {
		return nil, "", err
	}
	return c, gdns, nil
}
