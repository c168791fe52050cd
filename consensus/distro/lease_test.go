package distro

import (
	"fmt"
	"testing"
	"time"

	"sextant/consensus/cluster"
	"sextant/naming"
)

// rateClock runs at rate times real time from its start: a quartz that is
// slow (rate < 1) or fast.
func rateClock(rate float64) func() time.Time {
	start := time.Now()
	return func() time.Time {
		return start.Add(time.Duration(rate * float64(time.Since(start))))
	}
}

// A node cut off from both peers stops judging its services before the
// other two take them over: the two sides never judge one service at once.
// The cut-off node's reports hang until they time out while its peers
// learn at once that it is gone (the worst order for it), and its clock
// runs 5 % slow while theirs run 5 % fast, so nothing rests on the nodes
// agreeing on the time or its rate.
func TestIsolatedNodeStopsJudgingBeforeTheOthersTakeOver(t *testing.T) {
	ccfg := clusterConfig()
	ccfg.ReportInterval, ccfg.ReportTimeout = 20*time.Millisecond, 200*time.Millisecond
	var x string
	h := newTunedHarness(t, 3, testConfig(), ccfg, nil, func(addr string, c *cluster.Config) {
		if x == "" {
			x = addr // the first node built
			c.Now = rateClock(0.95)
			return
		}
		c.Now = rateClock(1.05)
	})
	keys := keysOwnedBy(x, h.addrs, "lease", 20)
	for _, k := range keys {
		if !h.node(x).eng.Owns(k) {
			t.Fatalf("%s does not judge %s before the cut", x, k)
		}
	}
	others := h.addrs[1:]

	h.net.BlackholeFrom(x)
	h.net.Isolate(x)
	cut := time.Now()
	deadline := cut.Add(5 * time.Second)
	for {
		taken, kept := 0, 0
		for _, k := range keys {
			// The other side first: if it judges now and x still judges
			// after, both judged k at the same moment.
			var by string
			for _, a := range others {
				if h.node(a).eng.Owns(k) {
					by = a
				}
			}
			xOwns := h.node(x).eng.Owns(k)
			if by != "" && xOwns {
				t.Fatalf("%s and %s judge %s at once, %v after the cut", by, x, k, time.Since(cut).Round(time.Millisecond))
			}
			if by != "" {
				taken++
			}
			if xOwns {
				kept++
			}
		}
		if taken == len(keys) && kept == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("5 s after the cut: %d of %d services taken over, %d still judged by %s", taken, len(keys), kept, x)
		}
	}
}

// A node that takes connections but cannot open any (its outbound traffic
// cut) hears its peers and answers their reports, yet tells them nothing:
// it cannot sync what it owns nor forward. It stops judging, and the other
// two count it DOWN and take its services over, one judge at a time,
// rather than the whole cluster stopping to judge while it lasts.
func TestNodeThatCannotSendIsTakenOver(t *testing.T) {
	ccfg := clusterConfig()
	ccfg.ReportInterval, ccfg.ReportTimeout = 20*time.Millisecond, 200*time.Millisecond
	h := newHarness(t, 3, testConfig(), ccfg)
	x, others := h.addrs[0], h.addrs[1:]
	keys := keysOwnedBy(x, h.addrs, "mute", 20)
	h.net.CutOutbound(x)
	cut := time.Now()
	deadline := cut.Add(5 * time.Second)
	for {
		taken := 0
		for _, k := range keys {
			var by []string
			for _, a := range h.addrs {
				if h.node(a).eng.Owns(k) {
					by = append(by, a)
				}
			}
			if len(by) > 1 {
				t.Fatalf("%v judge %s at once, %v after the cut", by, k, time.Since(cut).Round(time.Millisecond))
			}
			if len(by) == 1 && by[0] != x {
				taken++
			}
		}
		if taken == len(keys) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("5 s after %s lost its outbound traffic: %d of %d of its services judged by %v", x, taken, len(keys), others)
		}
	}
}

// keysOwnedBy returns n service keys named prefix-i that owner is
// responsible for among live.
func keysOwnedBy(owner string, live []string, prefix string, n int) []naming.ServiceKey {
	var keys []naming.ServiceKey
	for i := 0; len(keys) < n; i++ {
		if k := svc(fmt.Sprintf("%s-%d", prefix, i)); Owner(k, live) == owner {
			keys = append(keys, k)
		}
	}
	return keys
}
