package main

import (
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// judgingPeriod is a stretch of time in which one node's beat checker
// judged one service (from its first sweep to its last, Unix ms).
type judgingPeriod struct {
	node     int
	service  string
	from, to int64
}

// judgingPeriods reads every node's judging periods (parseJudging). A
// period still open now ends now.
func (c *rcluster) judgingPeriods() []judgingPeriod {
	var out []judgingPeriod
	now := time.Now().UnixMilli()
	for i := range c.ps {
		out = append(out, parseJudging(c.nodeLogs(i), i, c.offsets[i], now)...)
	}
	return out
}

// parseJudging reads node's "judging starts"/"judging stops" lines
// (healthcheck) from its logs, taking its clock offset off their times. A
// period still open when its process was killed ends at the kill; one
// still open at the end of the logs ends at end.
func parseJudging(logs string, node int, offset time.Duration, end int64) []judgingPeriod {
	var out []judgingPeriod
	open := map[string]int64{}
	closeAll := func(at int64) {
		for svc, from := range open {
			out = append(out, judgingPeriod{node: node, service: svc, from: from, to: at})
		}
		clear(open)
	}
	for _, line := range strings.Split(logs, "\n") {
		num := func(name string) int64 {
			v, _ := strconv.ParseInt(logField(line, name), 10, 64)
			return v - offset.Milliseconds()
		}
		switch {
		case strings.HasPrefix(line, "process killed "):
			at, _ := strconv.ParseInt(logField(line, "at"), 10, 64) // the test's clock
			closeAll(at)
		case strings.Contains(line, `msg="judging starts"`):
			open[logField(line, "service")] = num("at")
		case strings.Contains(line, `msg="judging stops"`):
			svc := logField(line, "service")
			delete(open, svc)
			out = append(out, judgingPeriod{node: node, service: svc, from: num("from"), to: num("to")})
		}
	}
	closeAll(end)
	return out
}

// harmedKey returns the workload key (svc|ip:port) of an instance a beat
// checker's log line says it marked unhealthy or removed.
func harmedKey(line string) (string, bool) {
	if !strings.Contains(line, `msg="instance marked unhealthy"`) && !strings.Contains(line, `msg="instance removed"`) {
		return "", false
	}
	svc := logField(line, "service")
	return svc[strings.LastIndex(svc, "@@")+2:] + "|" + logField(line, "instance"), true
}

// checkOneJudge checks that at no moment did two nodes judge (sweep, so
// possibly expire or flip instances of) the same service: no two periods
// of distinct nodes for one service overlap.
func checkOneJudge(t *testing.T, c *rcluster) int {
	t.Helper()
	byService := map[string][]judgingPeriod{}
	periods := c.judgingPeriods()
	for _, p := range periods {
		byService[p.service] = append(byService[p.service], p)
	}
	violations := 0
	for svc, ps := range byService {
		sort.Slice(ps, func(a, b int) bool { return ps[a].from < ps[b].from })
		for a := range ps {
			for b := a + 1; b < len(ps) && ps[b].from <= ps[a].to; b++ {
				if ps[a].node == ps[b].node {
					continue
				}
				from, to := max(ps[a].from, ps[b].from), min(ps[a].to, ps[b].to)
				if to < from {
					continue
				}
				violations++
				t.Errorf("%s was judged by nodes %d and %d at once, %s to %s (%d ms)", svc, ps[a].node, ps[b].node,
					time.UnixMilli(from).Format("15:04:05.000"), time.UnixMilli(to).Format("15:04:05.000"), to-from)
			}
		}
	}
	t.Logf("judging: %d periods over %d services, %d moments with two judges", len(periods), len(byService), violations)
	if len(periods) == 0 {
		t.Error("no node logged a judging period: the check saw nothing")
		violations++
	}
	return violations
}

// checkBeatersUnharmed checks that no instance whose client beat
// throughout (every beat answered by some node, none "not found") was
// removed or marked unhealthy by any node's beat checker.
func checkBeatersUnharmed(t *testing.T, w *workload) int {
	t.Helper()
	w.mu.Lock()
	throughout := map[string]bool{}
	troubled := 0
	for k := range w.beating {
		if w.beatTrouble[k] == 0 {
			throughout[k] = true
		} else {
			troubled++
		}
	}
	w.mu.Unlock()
	violations := 0
	for i := range w.c.ps {
		for _, line := range strings.Split(w.c.nodeLogs(i), "\n") {
			if k, ok := harmedKey(line); ok && throughout[k] {
				violations++
				t.Errorf("node %d harmed %s, whose client beat throughout: %s", i, k, line)
			}
		}
	}
	t.Logf("beating clients: %d beat throughout, %d had a beat fail or answered not found; %d harmed", len(throughout), troubled, violations)
	return violations
}
