package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// pacedResult is what an open-loop run measured: the operations done, and
// how late the latest one started against its due time (the generator
// falling behind the offered rate shows here).
type pacedResult struct {
	loadResult
	Offered float64 // operations per second asked for
	MaxLag  time.Duration
}

// runPaced offers op at rate per second for dur, spread over workers
// goroutines: operation seq is due at start + seq/rate, and a worker that
// is behind starts its next one at once. At most rate × dur operations
// start; the last ones in flight may end after dur (bounded by ctx).
func runPaced(ctx context.Context, workers int, rate float64, dur time.Duration, op opFunc) pacedResult {
	total := int64(rate * dur.Seconds())
	var maxLag atomic.Int64
	next := make([]int64, workers) // each worker's next operation: w, w + workers, …
	for w := range next {
		next[w] = int64(w)
	}
	start := time.Now()
	r := runWorkers(ctx, workers, func(ctx context.Context, w int) (int64, bool) {
		seq := next[w]
		if seq >= total {
			return 0, false
		}
		next[w] += int64(workers)
		due := start.Add(time.Duration(float64(seq) / rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
				return 0, false
			case <-time.After(d):
			}
		} else if lag := int64(-d); lag > maxLag.Load() {
			maxLag.Store(lag) // racy maximum: a lower value may win; good enough for a note
		}
		return seq, true
	}, op)
	return pacedResult{loadResult: r, Offered: rate, MaxLag: time.Duration(maxLag.Load())}
}

// reregister registers an existing instance again with another weight:
// one change to its service that leaves the service's size as it was.
// pass alternates the weight between 1 and 2.
func reregister(ctx context.Context, nd *node, in inst, pass int64, metadata string) error {
	return httpOp(ctx, "POST", nd.http, "/nacos/v1/ns/instance", reregisterForm(in, pass, metadata), "", nil)
}

// reregisterForm is the form of reregister.
func reregisterForm(in inst, pass int64, metadata string) url.Values {
	v := registerForm(in.service, in.ip, in.port, true, metadata)
	v.Set("weight", strconv.FormatInt(1+pass%2, 10))
	return v
}

// appendReregisterForm appends reregisterForm(in, pass, metadata).Encode()
// without building the url.Values: the churn writer's form, built in
// place so that the writer's own CPU, on the cores the server shares,
// stays small.
func appendReregisterForm(b []byte, in inst, pass int64, metadata string) []byte {
	var num [20]byte
	b = append(b, "enabled=true&ephemeral=true&healthy=true&ip="...)
	b = appendQueryEscape(b, in.ip)
	if metadata != "" {
		b = append(b, "&metadata="...)
		b = appendQueryEscape(b, metadata)
	}
	b = append(b, "&port="...)
	b = append(b, strconv.AppendInt(num[:0], int64(in.port), 10)...)
	b = append(b, "&serviceName="...)
	b = appendQueryEscape(b, in.service)
	b = append(b, "&weight="...)
	return strconv.AppendInt(b, 1+pass%2, 10)
}

// leanWriters are the keep-alive connections of a paced writer, one per
// worker, each with its form buffer: runPaced hands an op its worker's
// index, and a worker runs one op at a time.
type leanWriters struct {
	conns []*leanConn
	forms [][]byte
}

func newLeanWriters(workers int, addr string) *leanWriters {
	w := &leanWriters{conns: make([]*leanConn, workers), forms: make([][]byte, workers)}
	for i := range w.conns {
		w.conns[i] = newLeanConn(addr, 15*time.Second)
	}
	return w
}

// reregister is reregister on worker w's connection.
func (w *leanWriters) reregister(ctx context.Context, worker int, in inst, pass int64, metadata string) error {
	w.forms[worker] = appendReregisterForm(w.forms[worker][:0], in, pass, metadata)
	code, body, err := w.conns[worker].do(ctx, "POST", "/nacos/v1/ns/instance", w.forms[worker])
	if err != nil {
		return err
	}
	if code != 200 {
		return fmt.Errorf("POST /nacos/v1/ns/instance: %d %s", code, clip(body))
	}
	return nil
}

func (w *leanWriters) Close() {
	for _, c := range w.conns {
		_ = c.Close()
	}
}

// hasAddress reports whether a DNS answer holds an A record of ip.
func hasAddress(raw []byte, ip string) bool {
	var m dns.Msg
	if m.Unpack(raw) != nil {
		return false
	}
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.String() == ip {
			return true
		}
	}
	return false
}

// waitSeen polls see every step until it reports true or timeout passes,
// and returns the time from since to the first poll that saw it.
func waitSeen(ctx context.Context, since time.Time, timeout, step time.Duration, see func() bool) (time.Duration, error) {
	deadline := since.Add(timeout)
	for {
		if see() {
			return time.Since(since), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("not seen within %v", timeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(step):
		}
	}
}

// listHas reports whether addr's instance/list of service holds ip.
func listHas(ctx context.Context, addr, service, ip string) bool {
	code, body, err := httpDo(ctx, "GET", addr, "/nacos/v1/ns/instance/list", url.Values{"serviceName": {service}}, "")
	if err != nil || code != 200 {
		return false
	}
	found := false
	err = scanHosts(body, func(h []byte, _ bool) { found = found || string(h) == ip })
	return err == nil && found
}
