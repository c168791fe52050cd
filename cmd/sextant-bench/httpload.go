package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// benchClient is the harness's HTTP client: keep-alive, many idle
// connections per host, bounded per request.
var benchClient = &http.Client{
	Timeout: 15 * time.Second,
	Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        8192,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	},
}

// httpDo sends one request to addr: vals go in the query for GET and
// DELETE, in a form body otherwise. ua, when set, is the User-Agent.
func httpDo(ctx context.Context, method, addr, path string, vals url.Values, ua string) (int, []byte, error) {
	u := "http://" + addr + path
	var body io.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		if len(vals) > 0 {
			u += "?" + vals.Encode()
		}
	} else if vals != nil {
		body = strings.NewReader(vals.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	resp, err := benchClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// opFunc is one operation of a closed-loop load: seq numbers the operation
// across all workers, from 0.
type opFunc func(ctx context.Context, worker int, seq int64) error

// loadResult is what a closed-loop run measured.
type loadResult struct {
	OK, Failed int64
	Elapsed    time.Duration
	Lat        []time.Duration // latencies of successful operations (sampled when many)
	FirstErr   string
}

// Rate is successful operations per second.
func (r loadResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// maxLatSamples bounds the memory kept for latencies of one run.
const maxLatSamples = 2_000_000

// runClosedLoop runs op from workers goroutines, each starting its next
// operation when the last ended, until dur passes or maxOps operations were
// started (maxOps ≤ 0: no count bound, dur still bounds it).
func runClosedLoop(ctx context.Context, workers int, dur time.Duration, maxOps int64, op opFunc) loadResult {
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var next atomic.Int64
	return runWorkers(ctx, workers, func(context.Context, int) (int64, bool) {
		seq := next.Add(1) - 1
		return seq, maxOps <= 0 || seq < maxOps
	}, op)
}

// runWorkers runs op from workers goroutines, each on the operations
// seqOf gives it (false: the worker is done), until ctx ends; an error
// after ctx ended is not a failure.
func runWorkers(ctx context.Context, workers int, seqOf func(ctx context.Context, worker int) (int64, bool), op opFunc) loadResult {
	var ok, failed atomic.Int64
	var errOnce sync.Once
	var firstErr string
	lats := make([][]time.Duration, workers)
	perWorker := maxLatSamples / workers
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				seq, more := seqOf(ctx, w)
				if !more || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				err := op(ctx, w, seq)
				d := time.Since(t0)
				if err != nil {
					if ctx.Err() != nil {
						return // cut by the deadline: not a failure
					}
					failed.Add(1)
					errOnce.Do(func() { firstErr = err.Error() })
					continue
				}
				ok.Add(1)
				if len(lats[w]) < perWorker {
					lats[w] = append(lats[w], d)
				}
			}
		}()
	}
	wg.Wait()
	r := loadResult{OK: ok.Load(), Failed: failed.Load(), Elapsed: time.Since(start), FirstErr: firstErr}
	for _, l := range lats {
		r.Lat = append(r.Lat, l...)
	}
	return r
}

// httpOp wraps a request that must answer 200 with a body check.
func httpOp(ctx context.Context, method, addr, path string, vals url.Values, ua string, check func([]byte) error) error {
	code, body, err := httpDo(ctx, method, addr, path, vals, ua)
	if err != nil {
		return err
	}
	if code != 200 {
		return fmt.Errorf("%s %s: %d %s", method, path, code, clip(body))
	}
	if check != nil {
		return check(body)
	}
	return nil
}

func clip(b []byte) string {
	if len(b) > 160 {
		return string(b[:160]) + "…"
	}
	return string(b)
}

// getLoad measures GET requests per second on one URL with conns
// keep-alive connections: wrk when asked for or found, the Go generator
// otherwise. It returns the rate and the name of the generator used.
func (h *harness) getLoad(ctx context.Context, rawURL string, conns int, dur time.Duration) (float64, string, error) {
	useWrk := h.opts.httpLoad == "wrk" || (h.opts.httpLoad == "auto" && h.tools.wrk != "")
	if useWrk {
		if h.tools.wrk == "" {
			return 0, "", fmt.Errorf("wrk is not installed (apt-get install wrk, or --http-load go)")
		}
		rps, err := runWrk(ctx, h.tools.wrk, rawURL, conns, dur)
		return rps, "wrk", err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, "", err
	}
	r := runClosedLoop(ctx, conns, dur, 0, func(ctx context.Context, _ int, _ int64) error {
		return httpOp(ctx, "GET", u.Host, u.RequestURI(), nil, "", nil)
	})
	if r.Failed > 0 {
		return r.Rate(), "go", fmt.Errorf("%d requests failed: %s", r.Failed, r.FirstErr)
	}
	return r.Rate(), "go", nil
}

// runWrk runs wrk with 2 threads and conns connections for dur.
func runWrk(ctx context.Context, wrk, rawURL string, conns int, dur time.Duration) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, dur+30*time.Second)
	defer cancel()
	secs := int(dur.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	out, err := exec.CommandContext(ctx, wrk, "-t2", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", secs), rawURL).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk: %v\n%s", err, tail(out, 400))
	}
	return parseWrk(out)
}

// parseWrk reads "Requests/sec:" from wrk's output, and fails when wrk
// counted non-2xx answers.
func parseWrk(out []byte) (float64, error) {
	r, err := parseWrkRun(out)
	switch {
	case err != nil:
		return 0, err
	case r.Non2xx != "":
		return 0, fmt.Errorf("wrk: %s", r.Non2xx)
	case r.RPS == 0:
		return 0, fmt.Errorf("wrk output has no Requests/sec: %s", tail(out, 300))
	}
	return r.RPS, nil
}
