package main

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// revivalLine matches the warnings a node logs when an instance comes
// back (consensus/distro revival.go): created over its tombstone, created
// by a late write, or revived by a received record.
var revivalLine = regexp.MustCompile(`msg="(instance (?:created over its tombstone|created by a late write|revived by a record over its tombstone))"`)

// logField returns the value of field name in a logrus text line.
func logField(line, name string) string {
	re := regexp.MustCompile(`(?:^| )` + name + `=("(?:[^"\\]|\\.)*"|\S*)`)
	m := re.FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	if v, err := strconv.Unquote(m[1]); err == nil {
		return v
	}
	return m[1]
}

// noCulprit is explainLingering's answer when no node logged bringing the
// instance back: its deregistration did not reach every node (a node cut
// off or killed right after acknowledging it) rather than being undone.
const noCulprit = "no node logged bringing it back after its deregistration"

// explainLingering logs what the client of a deregistered instance that is
// listed again sent, and what the nodes logged about bringing it back; it
// returns the culprit: the first write or record after the deregistration
// that a node logged as bringing the instance back ("node 1: instance
// created by a late write, register forwarded"), or why none was found.
func (w *workload) explainLingering(t *testing.T, key string) string {
	t.Helper()
	w.mu.Lock()
	trace := append([]string(nil), w.traces[key]...)
	deregAt := w.deregistered[key]
	w.mu.Unlock()
	ipPort := key[strings.Index(key, "|")+1:]
	t.Logf("lingering %s (deregistration acknowledged at %s); its client sent:", key, deregAt.Format("15:04:05.000"))
	for _, l := range trace {
		t.Logf("    %s", l)
	}
	culprit, first := "", int64(-1)
	for i := range w.c.ps {
		for _, line := range strings.Split(w.c.nodeLogs(i), "\n") {
			if !strings.Contains(line, `instance="`+ipPort+`"`) {
				continue
			}
			t.Logf("    node %d: %s", i, line)
			m := revivalLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			now, _ := strconv.ParseInt(logField(line, "now"), 10, 64)
			now = w.c.nodeMs(i, now)
			// A node's clock may differ a little from the test's: look from
			// a second before the acknowledgement.
			if now < deregAt.Add(-time.Second).UnixMilli() || first >= 0 && now >= first {
				continue
			}
			origin := logField(line, "origin")
			if j := strings.Index(origin, " by "); j >= 0 {
				origin = origin[:j]
			} else if j := strings.Index(origin, " from "); j >= 0 {
				origin = origin[:j]
			} else if j := strings.Index(origin, " of "); j >= 0 {
				origin = origin[:j]
			}
			first = now
			culprit = fmt.Sprintf("%s (%s, %s)", m[1], logField(line, "kind"), origin)
		}
	}
	if culprit == "" {
		culprit = noCulprit
	}
	t.Logf("    culprit: %s", culprit)
	return culprit
}

// tally formats counts by name, largest first.
func tally(m map[string]int) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Slice(names, func(a, b int) bool {
		if m[names[a]] != m[names[b]] {
			return m[names[a]] > m[names[b]]
		}
		return names[a] < names[b]
	})
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "%d × %s; ", m[k], k)
	}
	return strings.TrimSuffix(b.String(), "; ")
}

// logRevivals logs how many times each node logged an instance coming
// back, by message, kind of write and way it came, lingering or not.
func (w *workload) logRevivals(t *testing.T) {
	t.Helper()
	for i := range w.c.ps {
		counts := map[string]int{}
		for _, line := range strings.Split(w.c.nodeLogs(i), "\n") {
			if m := revivalLine.FindStringSubmatch(line); m != nil {
				origin := strings.Fields(logField(line, "origin"))
				if len(origin) > 0 {
					counts[fmt.Sprintf("%s (%s, %s)", m[1], logField(line, "kind"), origin[0])]++
				}
			}
		}
		t.Logf("node %d logged instances coming back: %s", i, tally(counts))
	}
}
