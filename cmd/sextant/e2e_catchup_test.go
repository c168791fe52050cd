package main

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// TestRestartedMemberIsReadyWithPersistentData restarts members of a
// three-member cluster, after a crash (SIGKILL) and after a clean stop,
// and reads the persistent instances from each as soon as it reports
// ready: it lists every one. A member replays its Raft log only once the
// leader tells it what is committed; before it waited for that, it
// answered for a few seconds with persistent services missing.
func TestRestartedMemberIsReadyWithPersistentData(t *testing.T) {
	ps := startCluster3(t)
	const service = "DEFAULT_GROUP@@catchup"
	var ips []string
	for i := range 20 {
		ip := fmt.Sprintf("10.81.0.%d", i+1)
		params := url.Values{"serviceName": {service}, "ip": {ip}, "port": {"80"}, "ephemeral": {"false"}}
		if code, body := ps[i%3].do("POST", "/nacos/v1/ns/instance", params); code != 200 {
			t.Fatalf("register %s: %d %s", ip, code, body)
		}
		ips = append(ips, ip)
	}
	listsAll := func(p *proc) (bool, []map[string]any) {
		hosts := p.list(t, service)
		seen := map[any]bool{}
		for _, h := range hosts {
			seen[h["ip"]] = true
		}
		for _, ip := range ips {
			if !seen[ip] {
				return false, hosts
			}
		}
		return true, hosts
	}
	for _, p := range ps {
		waitFor(t, 10*time.Second, "the persistent instances on "+p.httpAddr, func() bool { ok, _ := listsAll(p); return ok })
	}
	// The leader each time: the others elect a new one while it restarts,
	// so it comes back with no leader to tell it what is committed.
	leader := func() *proc {
		var out *proc
		waitFor(t, 10*time.Second, "a raft leader", func() bool {
			for _, p := range ps {
				if v, _ := scrapeMetrics(t, "http://"+p.httpAddr).value("sextant_raft_role", "role=Leader"); v == 1 {
					out = p
					return true
				}
			}
			return false
		})
		return out
	}
	for _, crash := range []bool{true, false} {
		p := leader()
		if crash {
			p.kill()
		} else if err := p.stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		p.restart()
		if ok, hosts := listsAll(p); !ok {
			t.Fatalf("restarted (crash %v), %s answered ready, then listed %d of %d persistent instances: %v", crash, p.httpAddr, len(hosts), len(ips), hosts)
		}
	}
}
