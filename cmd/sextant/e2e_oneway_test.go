package main

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"sextant/consensus/distro"
	"sextant/naming"
)

// TestNodeThatCannotSendIsTakenOver runs three nodes in namespaces of
// their own and cuts the traffic one of them, X, starts towards its peers'
// HTTP and Raft ports; it still takes their connections and answers them.
// X can no longer sync nor forward what it holds, so the other two take
// over the services it was responsible for: an instance in one of them
// whose client went silent at the cut turns unhealthy and goes, while one
// whose client beats through them stays healthy throughout. Before, the
// peers kept X in their views (their reports reached it) and, not hearing
// it, judged nothing at all while the fault lasted.
func TestNodeThatCannotSendIsTakenOver(t *testing.T) {
	net := newTestNet(t, 3)
	var ps []*proc
	for i := 0; i < 3; i++ {
		p := net.proc(i, "oneway-secret-01234")
		p.launch()
		ps = append(ps, p)
	}
	for _, p := range ps {
		p.waitReady()
	}
	members := net.members()
	var service string
	for i := 0; service == ""; i++ {
		if name := fmt.Sprintf("oneway-%d", i); distro.Owner(naming.NewServiceKey("", "", name), members) == members[0] {
			service = name
		}
	}
	via, other := ps[1], ps[2]
	const timeouts = `{"preserved.heart.beat.timeout":"3000","preserved.ip.delete.timeout":"6000"}`
	beat := func(ip string) {
		if code, body := via.do("PUT", "/nacos/v1/ns/instance/beat", url.Values{"serviceName": {service}, "ip": {ip}, "port": {"80"}}); code != 200 {
			t.Errorf("beat for %s: %d %s", ip, code, body)
		}
	}
	for _, ip := range []string{"10.79.0.1", "10.79.0.2"} {
		if code, body := via.do("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {service}, "ip": {ip}, "port": {"80"}, "metadata": {timeouts}}); code != 200 {
			t.Fatalf("register %s: %d %s", ip, code, body)
		}
	}
	// Both clients beat every second through a member other than X; the
	// second stops at the cut.
	stop, silent := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		quiet := false
		for range 120 {
			select {
			case <-stop:
				return
			case <-silent:
				quiet, silent = true, nil
			case <-tick.C:
				beat("10.79.0.1")
				if !quiet {
					beat("10.79.0.2")
				}
			}
		}
	}()
	defer wg.Wait()
	defer close(stop)
	for _, p := range []*proc{via, other} {
		waitFor(t, 10*time.Second, "both instances healthy on "+p.httpAddr, func() bool {
			return p.hasHealthy(t, "DEFAULT_GROUP@@"+service, "10.79.0.1") && p.hasHealthy(t, "DEFAULT_GROUP@@"+service, "10.79.0.2")
		})
	}

	net.cutOutbound(0)
	defer net.healOutbound(0)
	close(silent)
	cutAt := time.Now()
	gone := func(p *proc) bool {
		for _, h := range p.list(t, "DEFAULT_GROUP@@"+service) {
			if h["ip"] == "10.79.0.2" {
				return false
			}
		}
		return true
	}
	for !gone(via) || !gone(other) {
		for _, p := range []*proc{via, other} {
			if !p.hasHealthy(t, "DEFAULT_GROUP@@"+service, "10.79.0.1") {
				t.Fatalf("%v after the cut, %s does not list the beating client's instance as healthy: %v",
					time.Since(cutAt).Round(time.Millisecond), p.httpAddr, p.list(t, "DEFAULT_GROUP@@"+service))
			}
		}
		if time.Since(cutAt) > 30*time.Second {
			t.Fatalf("30 s after the cut, the silent client's instance (delete timeout 6 s) is still listed: %v on %s, %v on %s",
				via.list(t, "DEFAULT_GROUP@@"+service), via.httpAddr, other.list(t, "DEFAULT_GROUP@@"+service), other.httpAddr)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("the silent instance went %v after the cut", time.Since(cutAt).Round(time.Millisecond))
}
