package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// wrkRegisterScript is a wrk Lua script that posts a registration of a new
// instance per request: service reg-NNN (k mod services), address
// 127.<100+proc>.<k/256 mod 256>.<k mod 256>, port 9000 + k/65536, where k
// counts this wrk process's requests (one thread per process, so k is
// unique). fixed holds the rest of the form, already encoded.
const wrkRegisterScript = `local proc, services, fixed = %d, %d, %q
local k = 0
request = function()
  k = k + 1
  local svc = string.format("reg-%%03d", k %% services)
  local ip = string.format("127.%%d.%%d.%%d", 100 + proc, math.floor(k / 256) %% 256, k %% 256)
  local port = 9000 + math.floor(k / 65536)
  local body = fixed .. "&serviceName=" .. svc .. "&ip=" .. ip .. "&port=" .. port
  return wrk.format("POST", "/nacos/v1/ns/instance", {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
`

// wrkResult is what one wrk run reported.
type wrkResult struct {
	Requests int64
	Elapsed  time.Duration
	RPS      float64 // "Requests/sec:"
	P50, P99 time.Duration
	Non2xx   string // wrk's line counting non-2xx answers, if any
	Failed   string // non-2xx or socket errors, as wrk printed them
}

// wrkRegister registers new ephemeral instances through every node at
// once, one wrk process (one thread, conns/len(addrs) connections) per
// node, for dur. It returns one result per node.
func (h *harness) wrkRegister(ctx context.Context, addrs []string, services, conns int, dur time.Duration) ([]wrkResult, error) {
	fixed := url.Values{"ephemeral": {"true"}, "weight": {"1"}, "healthy": {"true"}, "enabled": {"true"}, "metadata": {keepAlive}}.Encode()
	secs := max(1, int(dur.Round(time.Second)/time.Second))
	out := make([]wrkResult, len(addrs))
	errs := make([]error, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		script := filepath.Join(h.dir, fmt.Sprintf("register-%d.lua", i))
		if err := os.WriteFile(script, fmt.Appendf(nil, wrkRegisterScript, i, services, fixed), 0o644); err != nil {
			return nil, err
		}
		c := max(1, conns/len(addrs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, dur+30*time.Second)
			defer cancel()
			b, err := exec.CommandContext(cctx, h.tools.wrk, "-t1", fmt.Sprintf("-c%d", c), fmt.Sprintf("-d%ds", secs),
				"--latency", "-s", script, "http://"+addr+"/").CombinedOutput()
			if err != nil {
				errs[i] = fmt.Errorf("wrk: %v\n%s", err, tail(b, 400))
				return
			}
			out[i], errs[i] = parseWrkRun(b)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseWrkRun reads the request count, the run time, the 50% and 99%
// latencies and any error lines from wrk --latency output.
func parseWrkRun(b []byte) (wrkResult, error) {
	var r wrkResult
	found := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && f[1] == "requests" && f[2] == "in":
			n, err := strconv.ParseInt(f[0], 10, 64)
			d, derr := time.ParseDuration(strings.TrimSuffix(f[3], ","))
			if err != nil || derr != nil {
				return r, fmt.Errorf("wrk output: %q", line)
			}
			r.Requests, r.Elapsed, found = n, d, true
		case len(f) == 2 && f[0] == "50%":
			r.P50 = parseWrkDur(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.P99 = parseWrkDur(f[1])
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return r, fmt.Errorf("wrk output: %q", line)
			}
			r.RPS = v
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:"):
			r.Non2xx = line
			r.Failed = strings.TrimPrefix(r.Failed+"; "+line, "; ")
		case strings.HasPrefix(line, "Socket errors:"):
			r.Failed = strings.TrimPrefix(r.Failed+"; "+line, "; ")
		}
	}
	if !found {
		return r, fmt.Errorf("wrk output has no request count: %s", tail(b, 300))
	}
	return r, nil
}

// parseWrkDur reads wrk's latency figures: 812.00us, 9.51ms, 1.02s, 2.00m.
func parseWrkDur(s string) time.Duration {
	if strings.HasSuffix(s, "m") && !strings.HasSuffix(s, "ms") {
		s += "in"
	}
	s = strings.Replace(s, "min", "m", 1)
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0
	}
	return d
}
