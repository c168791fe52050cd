package main

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// inst is one instance to register.
type inst struct {
	service string
	ip      string
	port    int
}

// populate registers n instances (at(i) says which) with workers
// concurrent clients, spread over the nodes round-robin. Every
// registration must succeed.
func (h *harness) populate(ctx context.Context, nodes []*node, n, workers int, ephemeral bool, metadata string, at func(i int) inst) (loadResult, error) {
	r := runClosedLoop(ctx, workers, time.Hour, int64(n), func(ctx context.Context, _ int, seq int64) error {
		in := at(int(seq))
		nd := nodes[int(seq)%len(nodes)]
		return httpOp(ctx, "POST", nd.http, "/nacos/v1/ns/instance", registerForm(in.service, in.ip, in.port, ephemeral, metadata), "", nil)
	})
	if r.Failed > 0 {
		return r, fmt.Errorf("%d of %d registrations failed: %s", r.Failed, n, r.FirstErr)
	}
	if r.OK < int64(n) {
		return r, fmt.Errorf("only %d of %d registrations done", r.OK, n)
	}
	return r, nil
}

// listHosts is the part of an instance/list answer the harness reads.
type listHosts struct {
	Hosts []struct {
		IP      string `json:"ip"`
		Port    int    `json:"port"`
		Healthy bool   `json:"healthy"`
	} `json:"hosts"`
}

// listURL is the instance/list path for a service.
func listPath(service string, extra url.Values) string {
	v := url.Values{"serviceName": {service}}
	for k, vs := range extra {
		v[k] = vs
	}
	return "/nacos/v1/ns/instance/list?" + v.Encode()
}

// benchAllocs runs a package benchmark of the source tree with -benchmem
// and returns allocs/op of the benchmarks whose name matches sub (the
// largest when several match). It needs the go tool and the source.
func benchAllocs(ctx context.Context, pkg, pattern string, sub *regexp.Regexp) (allocs int, line string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	out, err := runGoTest(ctx, "-run", "^$", "-bench", pattern, "-benchmem", "-benchtime", "20000x", pkg)
	if err != nil {
		return 0, "", fmt.Errorf("go test -bench %s %s: %v: %s", pattern, pkg, err, oneLine(tail(out, 300)))
	}
	return parseBenchAllocs(out, sub)
}

// runGoTest runs `go test` with args in the current directory (the
// source tree) and returns its output.
func runGoTest(ctx context.Context, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, "go", append([]string{"test"}, args...)...).CombinedOutput()
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+)\s+\d+\s+([\d.]+) ns/op(?:\s+([\d.]+) B/op\s+(\d+) allocs/op)?`)

// parseBenchAllocs reads `go test -bench -benchmem` output.
func parseBenchAllocs(out []byte, sub *regexp.Regexp) (int, string, error) {
	best, bestLine := -1, ""
	for _, l := range regexp.MustCompile(`\r?\n`).Split(string(out), -1) {
		m := benchLine.FindStringSubmatch(l)
		if m == nil || m[4] == "" || !sub.MatchString(m[1]) {
			continue
		}
		n, _ := strconv.Atoi(m[4])
		if n > best {
			best, bestLine = n, fmt.Sprintf("%s %s ns/op %s allocs/op", m[1], m[2], m[4])
		}
	}
	if best < 0 {
		return 0, "", fmt.Errorf("no benchmark matching %s in the output", sub)
	}
	return best, bestLine, nil
}
