package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"sextant/internal/freeport"
)

// node is one sextant server process on loopback.
type node struct {
	*child
	http    string // HTTP address (Raft is on its port − 1000)
	dns     string // DNS address, UDP and TCP
	dataDir string
}

// raftPortOffset mirrors cmd/sextant: a member's Raft port is its HTTP
// port minus 1000.
const raftPortOffset = -1000

// grpcPortOffset mirrors cmd/sextant: the gRPC front listens on the HTTP
// port plus 1000, where Nacos 2.x clients look for it.
const grpcPortOffset = 1000

// startNodes runs n sextant servers (a cluster when n > 1) with extra
// flags and waits until every one is ready.
func (h *harness) startNodes(ctx context.Context, n int, extra ...string) ([]*node, error) {
	taken := map[int]bool{}
	nodes := make([]*node, n)
	var members []string
	for i := range nodes {
		hp, err := pickPortPair(taken)
		if err != nil {
			return nil, err
		}
		dp, err := pickUDPTCPPort(taken)
		if err != nil {
			return nil, err
		}
		nodes[i] = &node{http: fmt.Sprintf("127.0.0.1:%d", hp), dns: fmt.Sprintf("127.0.0.1:%d", dp)}
		members = append(members, nodes[i].http)
	}
	for i, nd := range nodes {
		dir, err := h.mkdir(fmt.Sprintf("node%d", i+1))
		if err != nil {
			return nil, err
		}
		nd.dataDir = dir
		// The load generators hold up to 4,096 connections from one address.
		args := []string{"server", "--http-addr", nd.http, "--dns-addr", nd.dns, "--data-dir", filepath.Join(dir, "data"),
			"--log-level", "warn", "--max-connections-per-ip", "0"}
		if n > 1 {
			args = append(args, "--members", strings.Join(members, ","), "--cluster-secret", "bench-secret")
		}
		args = append(args, extra...)
		c, err := h.procs.startEnv(fmt.Sprintf("sextant-%d", i+1), h.bin, filepath.Join(dir, "sextant.log"), h.memberEnv(n), args...)
		if err != nil {
			return nil, err
		}
		nd.child = c
	}
	for _, nd := range nodes {
		if err := nd.waitReady(ctx, 60*time.Second); err != nil {
			return nil, err
		}
	}
	return nodes, nil
}

// memberEnv is the environment added to each of n processes of one
// cluster on this machine: GOMAXPROCS set to their share of the cores
// (--node-procs). Go sizes its scheduler to every core of the machine, as
// a process that has them to itself; three such processes on two cores
// spend a sixth of their CPU spinning and handing goroutines between
// threads (register scenario: 174 against 145 µs of cluster CPU per
// registration). A node of a real cluster has its own cores, and under a
// container's CPU limit Go sizes itself to the limit.
func (h *harness) memberEnv(n int) []string {
	p := h.opts.nodeProcs
	switch {
	case n <= 1 || p < 0:
		return nil
	case p == 0:
		p = max(1, runtime.NumCPU()/n)
	}
	return []string{"GOMAXPROCS=" + strconv.Itoa(p)}
}

// waitReady polls the readiness endpoint until it answers 200.
func (nd *node) waitReady(ctx context.Context, timeout time.Duration) error {
	return poll(ctx, timeout, 50*time.Millisecond, func() (bool, error) {
		if done, err := nd.exited(); done {
			return false, fmt.Errorf("%s exited: %v\n%s", nd.name, err, nd.logTail())
		}
		code, _, err := httpDo(ctx, "GET", nd.http, "/nacos/v1/console/health/readiness", nil, "")
		return err == nil && code == 200, nil
	})
}

// leader asks a node for the Raft leader's HTTP address.
func (nd *node) leader(ctx context.Context) string {
	code, body, err := httpDo(ctx, "GET", nd.http, "/nacos/v1/ns/raft/leader", nil, "")
	if err != nil || code != 200 {
		return ""
	}
	// {"leader": the leader as a Nacos RaftPeer, in JSON, as a string}
	var v struct {
		Leader string `json:"leader"`
	}
	var peer struct {
		IP string `json:"ip"`
	}
	_ = json.Unmarshal(body, &v)
	_ = json.Unmarshal([]byte(v.Leader), &peer)
	return peer.IP
}

// rss returns the node's memory from /proc.
func (nd *node) mem() (memStatus, error) { return readMemStatus(nd.pid()) }

// waitLeader waits until every running node names the same leader among nodes.
func waitLeader(ctx context.Context, nodes []*node, timeout time.Duration) (*node, error) {
	var found *node
	err := poll(ctx, timeout, 100*time.Millisecond, func() (bool, error) {
		var name string
		for _, nd := range nodes {
			if !nd.running() {
				continue
			}
			l := nd.leader(ctx)
			if l == "" || (name != "" && l != name) {
				return false, nil
			}
			name = l
		}
		for _, nd := range nodes {
			if nd.http == name && nd.running() {
				found = nd
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("no agreed leader: %w", err)
	}
	return found, nil
}

// poll calls cond every step until it holds, fails, or timeout passes.
func poll(ctx context.Context, timeout, step time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(step):
		}
	}
}

// pickPortPair finds a free port p on 127.0.0.1 whose Raft and gRPC
// companions are free too.
func pickPortPair(taken map[int]bool) (int, error) {
	return freeport.Pick(taken, raftPortOffset, grpcPortOffset)
}

// pickUDPTCPPort finds a port free for both UDP and TCP on 127.0.0.1.
func pickUDPTCPPort(taken map[int]bool) (int, error) { return freeport.Pick(taken) }

// keepAlive is instance metadata that keeps an ephemeral instance healthy
// for a day without beats, for scenarios that measure something else.
const keepAlive = `{"preserved.heart.beat.timeout":"86400000","preserved.ip.delete.timeout":"86400000"}`

// instanceIP is the loopback address of instance number k (k ≥ 0): every
// instance of a run gets its own, all inside 127.0.0.0/8, so that nothing
// a server might do with an instance address leaves the machine.
func instanceIP(k int) string {
	k++
	return fmt.Sprintf("127.%d.%d.%d", 1+(k>>16)%250, (k>>8)&255, k&255)
}

// registerForm is the form of POST /nacos/v1/ns/instance.
func registerForm(service, ip string, port int, ephemeral bool, metadata string) url.Values {
	v := url.Values{"serviceName": {service}, "ip": {ip}, "port": {strconv.Itoa(port)},
		"ephemeral": {strconv.FormatBool(ephemeral)}, "weight": {"1"}, "healthy": {"true"}, "enabled": {"true"}}
	if metadata != "" {
		v.Set("metadata", metadata)
	}
	return v
}

// disableProbes sets the service's DEFAULT cluster health check to NONE, so
// persistent instances are not probed while their writes are measured.
func disableProbes(ctx context.Context, nd *node, service string) error {
	v := url.Values{"serviceName": {service}, "clusterName": {"DEFAULT"}, "healthChecker": {`{"type":"NONE"}`}}
	code, body, err := httpDo(ctx, "PUT", nd.http, "/nacos/v1/ns/cluster", v, "")
	if err != nil {
		return err
	}
	if code != 200 {
		return fmt.Errorf("PUT /cluster: %d %s", code, body)
	}
	return nil
}

// createService creates a service through Raft (retrying while a leader is
// elected).
func createService(ctx context.Context, nd *node, service string) error {
	return poll(ctx, 20*time.Second, 200*time.Millisecond, func() (bool, error) {
		code, body, err := httpDo(ctx, "POST", nd.http, "/nacos/v1/ns/service", url.Values{"serviceName": {service}}, "")
		if err == nil && code == 200 {
			return true, nil
		}
		if err == nil && strings.Contains(strings.ToLower(string(body)), "already exist") {
			return true, nil
		}
		return false, nil
	})
}
