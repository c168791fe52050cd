package main

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/miekg/dns"
)

// deleteTimeout is how long an ephemeral instance without beats stays
// (naming.DefaultDeleteTimeout): a deregistration lost with a node that crashed before
// replicating it is made good by expiry within this time.
const deleteTimeout = 30 * time.Second

// divergences compares what every node lists for the workload's services
// with each other and with what clients were told. It returns the
// problems, and the deregistered instances some node still lists.
func (w *workload) divergences(services []string) (problems, present []string) {
	w.mu.Lock()
	beating := make([]instRef, 0, len(w.beating))
	for _, r := range w.beating {
		beating = append(beating, r)
	}
	gone := make(map[string]time.Time, len(w.deregistered))
	for k, at := range w.deregistered {
		gone[k] = at
	}
	w.mu.Unlock()
	views := make([]map[string][]hostView, len(w.c.ps))
	for i := range w.c.ps {
		views[i] = map[string][]hostView{}
		for _, svc := range services {
			hosts, err := w.listOn(i, svc)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			views[i][svc] = hosts
		}
	}
	if len(problems) > 0 {
		return problems, nil
	}
	for _, svc := range services {
		ref := fmt.Sprint(views[0][svc])
		for i := 1; i < len(views); i++ {
			if got := fmt.Sprint(views[i][svc]); got != ref {
				problems = append(problems, fmt.Sprintf("%s: node 0 lists %s, node %d lists %s", svc, ref, i, got))
			}
		}
	}
	for _, r := range beating {
		for i := range views {
			h := find(views[i][r.svc], r.ip, r.port)
			if h == nil || !h.Healthy {
				problems = append(problems, fmt.Sprintf("node %d: beating instance %s is %s", i, r.key(), describe(h)))
			}
		}
	}
	seen := map[string]bool{}
	for i := range views {
		for svc, hosts := range views[i] {
			for _, h := range hosts {
				k := instRef{svc: svc, ip: h.IP, port: h.Port}.key()
				if at, ok := gone[k]; ok && !seen[k] {
					seen[k] = true
					present = append(present, fmt.Sprintf("node %d lists %s, deregistered %v ago", i, k, time.Since(at).Round(100*time.Millisecond)))
				}
			}
		}
	}
	return problems, present
}

func find(hosts []hostView, ip string, port int) *hostView {
	for i := range hosts {
		if hosts[i].IP == ip && hosts[i].Port == port {
			return &hosts[i]
		}
	}
	return nil
}

func describe(h *hostView) string {
	if h == nil {
		return "missing"
	}
	return fmt.Sprintf("%+v", *h)
}

// checkConvergence waits for the nodes to agree with each other and with
// what clients were told, then watches for a while that nothing comes
// back. It returns the number of violations.
func checkConvergence(t *testing.T, w *workload, size suiteSize) int {
	t.Helper()
	var services []string
	for i := 0; i < size.services; i++ {
		services = append(services, fmt.Sprintf("rel-svc-%d", i))
	}
	start := time.Now()
	w.mu.Lock()
	deregDeadline := w.lastDereg.Add(deleteTimeout + 15*time.Second)
	w.mu.Unlock()
	deadline := start.Add(60 * time.Second)
	if deregDeadline.After(deadline) {
		deadline = deregDeadline
	}
	resurrected := map[string]bool{} // listed again; true when a node logged bringing it back
	culprits := map[string]int{}
	for {
		problems, present := w.divergences(services)
		for _, p := range present {
			// Replication takes about a second; longer means the
			// deregistration was lost with a crashed node or undone by a
			// stale beat, and expiry must remove the instance.
			var ago time.Duration
			if i := strings.LastIndex(p, "deregistered "); i >= 0 {
				ago, _ = time.ParseDuration(strings.TrimSuffix(p[i+len("deregistered "):], " ago"))
			}
			k := p[strings.Index(p, "lists ")+6 : strings.Index(p, ", deregistered")]
			if _, seen := resurrected[k]; ago > 5*time.Second && !seen {
				culprit := w.explainLingering(t, k)
				resurrected[k] = culprit != noCulprit
				culprits[culprit]++
			}
		}
		if len(problems) == 0 && len(present) == 0 {
			break
		}
		if el := time.Since(start); el/(5*time.Second) != (el-500*time.Millisecond)/(5*time.Second) || len(resurrected) == len(present) && el < time.Second {
			t.Logf("%v after the repair: %d problems, %d deregistered instances listed; e.g. %s",
				el.Round(100*time.Millisecond), len(problems), len(present), firstOf(problems, present))
		}
		if time.Now().After(deadline) {
			for i, p := range append(problems, present...) {
				if i == 20 {
					t.Errorf("... and %d more", len(problems)+len(present)-20)
					break
				}
				t.Error(p)
			}
			return len(problems) + len(present)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("nodes agree %v after the last repair; %d deregistered instances were listed more than 5 s after their deregistration (gone by expiry)",
		time.Since(start).Round(100*time.Millisecond), len(resurrected))
	if len(culprits) > 0 {
		t.Logf("what brought them back: %s", tally(culprits))
	}
	w.mu.Lock()
	w.lingered = len(resurrected)
	w.mu.Unlock()
	lingering := 0
	if !w.c.skewed() {
		// With clocks in step no node may bring a deregistered instance
		// back; with skewed clocks (SEXTANT_SKEW) they are only reported:
		// a copy from a faster clock loses to the deregistration within
		// its hold (consensus/distro), but a registration its client gave
		// up on, delivered after the deregistration by a link that held
		// it, is stamped on the receiving member's clock and can still
		// pass for a newer one. A deregistration that did not reach a
		// node in time (no node brought it back) is reported.
		for k, undone := range resurrected {
			if undone {
				t.Errorf("deregistered %s was brought back", k)
				lingering++
			}
		}
	}
	violations := 0
	// Nothing comes back: keep looking for a while.
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(time.Second) {
		problems, present := w.divergences(services)
		for _, p := range append(problems, present...) {
			t.Errorf("after convergence: %s", p)
			violations++
		}
		if violations > 0 {
			return violations + lingering
		}
	}
	violations += checkDNS(t, w, services)
	violations += checkCPAgreement(t, w, size.linKeys)
	return violations + lingering
}

// checkDNS asks every node for the A records of every service and checks
// that they answer alike, with the healthy instances they list.
func checkDNS(t *testing.T, w *workload, services []string) int {
	t.Helper()
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	answer := func(i int, svc string) (string, error) {
		m := new(dns.Msg)
		m.SetQuestion(svc+".service.nacos.", dns.TypeA)
		m.SetEdns0(4096, false)
		resp, _, err := c.Exchange(m, w.c.ps[i].dnsAddr)
		if err != nil {
			return "", err
		}
		var ips []string
		for _, rr := range resp.Answer {
			if a, ok := rr.(*dns.A); ok {
				ips = append(ips, a.A.String())
			}
		}
		sort.Strings(ips)
		return strings.Join(ips, ","), nil
	}
	var last []string
	deadline := time.Now().Add(15 * time.Second)
	for {
		last = last[:0]
		for _, svc := range services {
			hosts, err := w.listOn(0, svc)
			if err != nil {
				last = append(last, err.Error())
				continue
			}
			var want []string
			for _, h := range hosts {
				if h.Healthy && h.Enabled && h.Weight > 0 {
					want = append(want, h.IP)
				}
			}
			sort.Strings(want)
			for i := range w.c.ps {
				got, err := answer(i, svc)
				if err != nil {
					last = append(last, fmt.Sprintf("node %d dns %s: %v", i, svc, err))
				} else if got != strings.Join(want, ",") {
					last = append(last, fmt.Sprintf("node %d dns %s: %s, lists %s", i, svc, got, strings.Join(want, ",")))
				}
			}
		}
		if len(last) == 0 {
			return 0
		}
		if time.Now().After(deadline) {
			for _, p := range last {
				t.Error(p)
			}
			return len(last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkCPAgreement checks that every node knows the same LIN services.
func checkCPAgreement(t *testing.T, w *workload, keys int) int {
	t.Helper()
	var last []string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		last = last[:0]
		for k := 0; k < keys; k++ {
			var codes []int
			for i := range w.c.ps {
				code, _ := w.call(w.fast, i, http.MethodGet, "/nacos/v1/ns/service",
					url.Values{"serviceName": {fmt.Sprintf("rel-lin-%d", k)}, "groupName": {"LIN"}})
				codes = append(codes, code)
			}
			for _, c := range codes[1:] {
				if c != codes[0] {
					last = append(last, fmt.Sprintf("rel-lin-%d: nodes answer %v", k, codes))
					break
				}
			}
		}
		if len(last) == 0 {
			return 0
		}
		if time.Now().After(deadline) {
			for _, p := range last {
				t.Error(p)
			}
			return len(last)
		}
	}
}

// checkLinearizable runs porcupine over the CP history.
func checkLinearizable(t *testing.T, w *workload) int {
	t.Helper()
	h := w.linHistory()
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(serviceSetModel, h, 2*time.Minute)
	t.Logf("porcupine: %d CP ops checked in %v: %s", len(h), time.Since(start).Round(time.Millisecond), res)
	switch res {
	case porcupine.Ok:
		return 0
	case porcupine.Unknown:
		t.Log("porcupine ran out of time: the history is neither proven nor refuted")
		return 0
	}
	path := t.TempDir() + "/lin.html"
	if err := porcupine.VisualizePath(serviceSetModel, info, path); err == nil {
		t.Logf("visualisation: %s", path)
	}
	t.Error("the CP history is not linearizable")
	explainViolation(t, h)
	return 1
}

// explainViolation finds a key whose ops are not linearizable and logs
// the ops around the shortest prefix (by call time) that already fails.
func explainViolation(t *testing.T, h []porcupine.Operation) {
	byKey := map[int][]porcupine.Operation{}
	for _, op := range h {
		k := op.Input.(linOp).key
		byKey[k] = append(byKey[k], op)
	}
	for k, ops := range byKey {
		if porcupine.CheckOperations(serviceSetModel, ops) {
			continue
		}
		sort.Slice(ops, func(i, j int) bool { return ops[i].Call < ops[j].Call })
		n := sort.Search(len(ops), func(n int) bool { return !porcupine.CheckOperations(serviceSetModel, ops[:n+1]) })
		t.Logf("key %d: the first %d of its %d ops (by call) are not linearizable; the ops before:", k, n+1, len(ops))
		for _, op := range ops[max(0, n-25) : n+1] {
			t.Logf("  call %8.3fs ret %8.3fs  %s  (%v)", float64(op.Call)/1e9, float64(op.Return)/1e9,
				serviceSetModel.DescribeOperation(op.Input, op.Output), op.Metadata)
		}
		return
	}
}

func firstOf(lists ...[]string) string {
	for _, l := range lists {
		if len(l) > 0 {
			return l[0]
		}
	}
	return "-"
}
