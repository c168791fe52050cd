package distro

import (
	"fmt"
	"math/rand"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"sextant/naming"
)

// TestVisibilityLatency measures the time from an acknowledged write to its
// visibility on every node, over memnet, and logs median and p99. It
// asserts only that every write becomes visible. With
// SEXTANT_DISTRO_LATENCY=default it runs with DefaultConfig (1 s sync delay).
func TestVisibilityLatency(t *testing.T) {
	cfg := testConfig()
	if os.Getenv("SEXTANT_DISTRO_LATENCY") == "default" {
		cfg = DefaultConfig()
	}
	h := newHarness(t, 3, cfg, clusterConfig())
	const writes = 200
	type want struct {
		key naming.ServiceKey
		ip  string
	}
	var mu sync.Mutex
	start := map[want]time.Time{}
	seen := map[want]map[string]bool{}
	done := map[want]time.Duration{}
	for _, nd := range h.running() {
		nd := nd
		nd.cat.Watch(func(k naming.ServiceKey) {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			for _, a := range ips(nd.cat, k) {
				w := want{k, a}
				t0, ok := start[w]
				if !ok || seen[w][nd.addr] {
					continue
				}
				seen[w][nd.addr] = true
				if len(seen[w]) == 3 {
					done[w] = now.Sub(t0)
				}
			}
		})
	}
	rng := rand.New(rand.NewSource(3))
	for i := range writes {
		k := svc(fmt.Sprintf("lat-%d", rng.Intn(50)))
		ip := fmt.Sprintf("10.%d.%d.%d", 1+i/65536, i/256%256, i%256)
		w := want{k, ip + ":80"}
		mu.Lock()
		start[w] = time.Now()
		seen[w] = map[string]bool{}
		mu.Unlock()
		if err := h.applyRetry(h.addrs[rng.Intn(3)], registerOp(k, ip, 80), time.Second); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Intn(10)) * time.Millisecond)
	}
	waitFor(t, 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(done) == writes
	})
	mu.Lock()
	var d []time.Duration
	for _, v := range done {
		d = append(d, v)
	}
	mu.Unlock()
	slices.Sort(d)
	t.Logf("write→visible on all 3 nodes over %d writes (sync delay %v): median %v, p99 %v, max %v",
		writes, cfg.SyncDelay, d[len(d)/2].Round(time.Millisecond), d[len(d)*99/100].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond))
}
