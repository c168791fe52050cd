package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	constv2 "github.com/nacos-group/nacos-sdk-go/v2/common/constant"
)

// TestCutLinkKeepsGRPCClients runs three nodes in namespaces of their own
// and cuts only the link between B and C. A nacos-sdk-go/v2 client stays
// connected to C, with an instance in a service B is responsible for. C's
// renewals reach B through A, so for longer than the beat timeout the
// instance stays listed, healthy, on every member; and a new registration
// through C appears everywhere, while the link is still cut.
func TestCutLinkKeepsGRPCClients(t *testing.T) {
	net := newTestNet(t, 3)
	var ps []*proc
	for i := 0; i < 3; i++ {
		p := net.proc(i, "cutlink-secret-0123", "--push-target", "source")
		p.launch()
		ps = append(ps, p)
	}
	for _, p := range ps {
		p.waitReady()
	}
	b, c := ps[1], ps[2]
	// A service B is responsible for, once C's member view holds all three.
	service := ""
	waitFor(t, 15*time.Second, "a service of B's in C's view", func() bool {
		for i := 0; i < 30; i++ {
			name := fmt.Sprintf("cutlink-%d", i)
			code, body := c.get("/nacos/v1/ns/operator/distro/server", url.Values{"serviceName": {name}})
			var v struct {
				Server string `json:"responsibleServer"`
			}
			if code == 200 && json.Unmarshal([]byte(body), &v) == nil && v.Server == b.httpAddr {
				service = name
				return true
			}
		}
		return false
	})
	c.waitGRPC(t)
	client := newV2Client(t, []constv2.ServerConfig{{IpAddr: net.addr(2), Port: 8848, GrpcPort: 9848, ContextPath: "/nacos"}}, "", "")
	v2Register(t, client, service, "10.77.0.1")
	grouped := "DEFAULT_GROUP@@" + service
	for _, p := range ps {
		waitFor(t, 10*time.Second, "the instance on "+p.httpAddr, func() bool { return p.hasHealthy(t, grouped, "10.77.0.1") })
	}

	net.cutLink(1, 2)
	cutAt := time.Now()
	// Past the beat timeout (15 s) with the link still cut, the first
	// instance never left any member's list nor turned unhealthy.
	for time.Since(cutAt) < 20*time.Second {
		for _, p := range ps {
			if !p.hasHealthy(t, grouped, "10.77.0.1") {
				t.Fatalf("%v after the cut, %s does not list the live client's instance as healthy: %v",
					time.Since(cutAt).Round(time.Millisecond), p.httpAddr, p.list(t, grouped))
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	v2Register(t, client, service, "10.77.0.2")
	for _, p := range ps {
		waitFor(t, 10*time.Second, "the registration made during the cut on "+p.httpAddr, func() bool {
			return p.hasHealthy(t, grouped, "10.77.0.2")
		})
	}
	if relayed, _ := scrapeMetrics(t, "http://"+c.httpAddr).value("sextant_distro_forwards_relayed_total"); relayed <= 0 {
		t.Fatalf("C relayed no forward (%v): the writes did not go around the cut link", relayed)
	}
}

// TestCutOffMemberMovesGRPCClients runs three nodes in namespaces of their
// own with a nacos-sdk-go/v2 client that knows all three, and cuts the
// member it is connected to off from the other two. That member asks its
// clients to move; the client reconnects to another member and registers
// again, so for longer than the beat timeout its instance stays listed,
// healthy, on the two members of the majority.
func TestCutOffMemberMovesGRPCClients(t *testing.T) {
	net := newTestNet(t, 3)
	var ps []*proc
	var servers []constv2.ServerConfig
	for i := 0; i < 3; i++ {
		p := net.proc(i, "cutoff-secret-01234", "--push-target", "source")
		p.launch()
		ps = append(ps, p)
		servers = append(servers, constv2.ServerConfig{IpAddr: net.addr(i), Port: 8848, GrpcPort: 9848, ContextPath: "/nacos"})
	}
	for _, p := range ps {
		p.waitReady()
		p.waitGRPC(t)
	}
	client := newV2Client(t, servers, "", "")
	v2Register(t, client, "cutoff", "10.78.0.1")
	for _, p := range ps {
		waitFor(t, 10*time.Second, "the instance on "+p.httpAddr, func() bool { return p.hasHealthy(t, "DEFAULT_GROUP@@cutoff", "10.78.0.1") })
	}
	holder := -1
	waitFor(t, 10*time.Second, "the client's member", func() bool {
		for i, p := range ps {
			if p.grpcConnections() == 1 {
				holder = i
				return true
			}
		}
		return false
	})

	net.cut(holder)
	cutAt := time.Now()
	var majority []*proc
	for i, p := range ps {
		if i != holder {
			majority = append(majority, p)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("holder's log:\n%s", ps[holder].logs.String())
		}
	})
	waitFor(t, 15*time.Second, "the client on a member of the majority", func() bool {
		return majority[0].grpcConnections()+majority[1].grpcConnections() == 1
	})
	t.Logf("the client moved %v after the cut", time.Since(cutAt).Round(time.Millisecond))
	for time.Since(cutAt) < 20*time.Second {
		for _, p := range majority {
			if !p.hasHealthy(t, "DEFAULT_GROUP@@cutoff", "10.78.0.1") {
				t.Fatalf("%v after the cut, %s does not list the live client's instance as healthy: %v",
					time.Since(cutAt).Round(time.Millisecond), p.httpAddr, p.list(t, "DEFAULT_GROUP@@cutoff"))
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	if moved, _ := scrapeMetrics(t, "http://"+ps[holder].httpAddr).value("sextant_grpc_connection_events_total", "event=moved"); moved != 1 {
		t.Fatalf("the cut-off member counted %v moved connections, want 1", moved)
	}
}
