package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
)

// workload drives a cluster through its HTTP API the way clients do: each
// request goes to a node picked at random, and a failed one is tried on
// the next node. Everything it learns from answers is recorded for the
// checks.
type workload struct {
	c    *rcluster
	fast *http.Client // ephemeral traffic
	slow *http.Client // CP writes: longer than the server's own bounds
	t0   time.Time

	// stop ends the beating clients; stopWrites ends the churn and the CP
	// clients, which stop first so the cluster can settle while live
	// clients go on beating.
	stop, stopWrites chan struct{}
	wg, writers      sync.WaitGroup
	once, onceWrites sync.Once

	mu           sync.Mutex
	beating      map[string]instRef   // acknowledged and still beating
	deregistered map[string]time.Time // acknowledged deregistrations
	unresolved   int                  // churn instances left in an unknown state at the end
	lingered     int                  // deregistered instances still listed > 5 s after their deregistration
	history      []porcupine.Operation
	lastDereg    time.Time
	// traces holds, per churn instance, every request its client sent
	// (node, answer, wall times), to explain an instance listed again.
	traces map[string][]string
	// beatTrouble counts, per long-lived beating instance, its beats that
	// no node answered and those answered "not found" (it was gone).
	beatTrouble map[string]int

	registers, beatsOK, beatsFailed, reregisters, deregs atomic.Int64
	linOK, linConflict, linNotFound, linUnknown          atomic.Int64
}

// instRef names one ephemeral instance of the workload.
type instRef struct {
	svc  string
	ip   string
	port int
}

func (r instRef) key() string { return fmt.Sprintf("%s|%s:%d", r.svc, r.ip, r.port) }

func newWorkload(c *rcluster) *workload {
	tr := func() *http.Transport {
		return &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	}
	return &workload{c: c, t0: time.Now(), stop: make(chan struct{}), stopWrites: make(chan struct{}),
		fast:    &http.Client{Timeout: 2 * time.Second, Transport: tr()},
		slow:    &http.Client{Timeout: 12 * time.Second, Transport: tr()},
		beating: map[string]instRef{}, deregistered: map[string]time.Time{}, traces: map[string][]string{}, beatTrouble: map[string]int{}}
}

// sleep waits d or until stop; it reports whether the workload goes on.
func (w *workload) sleep(stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-stop:
		return false
	case <-t.C:
		return true
	}
}

// call sends one request to node i.
func (w *workload) call(cl *http.Client, i int, method, path string, params url.Values) (int, string) {
	u := "http://" + w.c.members[i] + path
	var body io.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		u += "?" + params.Encode()
	} else {
		body = strings.NewReader(params.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return 0, err.Error()
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

// anyNode tries the nodes from a random one until one answers 200. With
// a trace key, each attempt is recorded under it.
func (w *workload) anyNode(rng *rand.Rand, trace, method, path string, params url.Values) (int, string) {
	n := len(w.c.members)
	start := rng.IntN(n)
	var code int
	var body string
	for k := 0; k < n; k++ {
		at := time.Now()
		code, body = w.call(w.fast, (start+k)%n, method, path, params)
		if trace != "" {
			w.mu.Lock()
			w.traces[trace] = append(w.traces[trace], fmt.Sprintf("%s-%s %s %s on node %d: %d %.60s",
				at.Format("15:04:05.000"), time.Now().Format("15:04:05.000"), method, path, (start+k)%n, code, strings.TrimSpace(body)))
			w.mu.Unlock()
		}
		if code == 200 {
			return code, body
		}
	}
	return code, body
}

func (w *workload) register(rng *rand.Rand, r instRef) bool {
	code, _ := w.anyNode(rng, w.traceKey(r), http.MethodPost, "/nacos/v1/ns/instance", url.Values{"serviceName": {r.svc},
		"ip": {r.ip}, "port": {fmt.Sprint(r.port)}, "ephemeral": {"true"}, "weight": {"1"}})
	return code == 200
}

// beat sends a full beat, as the Go client does; it re-registers when the
// server answers that the instance is gone.
func (w *workload) beat(rng *rand.Rand, r instRef) {
	b, _ := json.Marshal(map[string]any{"ip": r.ip, "port": r.port, "serviceName": "DEFAULT_GROUP@@" + r.svc,
		"cluster": "DEFAULT", "weight": 1, "metadata": map[string]string{}, "ephemeral": true})
	code, body := w.anyNode(rng, w.traceKey(r), http.MethodPut, "/nacos/v1/ns/instance/beat", url.Values{"serviceName": {r.svc}, "beat": {string(b)}})
	gone := code == 200 && strings.Contains(body, "20404")
	switch {
	case gone:
		w.reregisters.Add(1)
		w.register(rng, r)
	case code == 200:
		w.beatsOK.Add(1)
	default:
		w.beatsFailed.Add(1)
	}
	if r.port != churnPort && (code != 200 || gone) {
		w.mu.Lock()
		w.beatTrouble[r.key()]++
		w.mu.Unlock()
	}
}

// traceKey is the key to trace r's requests under: churn instances only
// (the ones that deregister).
func (w *workload) traceKey(r instRef) string {
	if r.port == churnPort {
		return r.key()
	}
	return ""
}

// churnPort is the port of every churn instance.
const churnPort = 9000

// beater registers r until acknowledged, then beats every interval until
// the workload ends; it stays on the list of beating instances.
func (w *workload) beater(r instRef, interval time.Duration, seed uint64) {
	defer w.wg.Done()
	rng := rand.New(rand.NewPCG(seed, 1))
	for !w.register(rng, r) {
		if !w.sleep(w.stop, 200*time.Millisecond) {
			return
		}
	}
	w.registers.Add(1)
	w.mu.Lock()
	w.beating[r.key()] = r
	w.mu.Unlock()
	for w.sleep(w.stop, interval-250*time.Millisecond+time.Duration(rng.IntN(500))*time.Millisecond) {
		w.beat(rng, r)
	}
}

// churn starts a short-lived instance every `every`: registered, beaten a
// little, then deregistered (after its beats stop, as clients do) and
// retried until a node acknowledges the deregistration.
func (w *workload) churn(services int, every time.Duration, seed uint64) {
	defer w.writers.Done()
	rng := rand.New(rand.NewPCG(seed, 2))
	for n := 0; w.sleep(w.stopWrites, every); n++ {
		r := instRef{svc: fmt.Sprintf("rel-svc-%d", rng.IntN(services)), ip: fmt.Sprintf("10.88.%d.%d", n/250%250, n%250+1), port: churnPort}
		w.writers.Add(1)
		go func(r instRef, seed uint64) {
			defer w.writers.Done()
			rng := rand.New(rand.NewPCG(seed, 3))
			deadline := time.Now().Add(60 * time.Second)
			for !w.register(rng, r) {
				if time.Now().After(deadline) {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			w.registers.Add(1)
			for k := 0; k < 1+rng.IntN(2); k++ {
				time.Sleep(time.Second)
				w.beat(rng, r)
			}
			params := url.Values{"serviceName": {r.svc}, "ip": {r.ip}, "port": {fmt.Sprint(r.port)}, "ephemeral": {"true"}}
			for time.Now().Before(deadline) {
				if code, _ := w.anyNode(rng, r.key(), http.MethodDelete, "/nacos/v1/ns/instance", params); code == 200 {
					w.deregs.Add(1)
					w.mu.Lock()
					w.deregistered[r.key()] = time.Now()
					w.lastDereg = time.Now()
					w.mu.Unlock()
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
			w.mu.Lock()
			w.unresolved++
			w.mu.Unlock()
		}(r, rng.Uint64())
	}
}

// linClient creates and deletes services of group LIN on random nodes and
// records each op with its answer for porcupine.
func (w *workload) linClient(id, keys int, seed uint64) {
	defer w.writers.Done()
	rng := rand.New(rand.NewPCG(seed, 4))
	for w.sleep(w.stopWrites, time.Duration(20+rng.IntN(60))*time.Millisecond) {
		in := linOp{key: rng.IntN(keys), create: rng.IntN(2) == 0}
		method := http.MethodDelete
		if in.create {
			method = http.MethodPost
		}
		node := rng.IntN(len(w.c.members))
		call := time.Since(w.t0).Nanoseconds()
		code, body := w.call(w.slow, node, method, "/nacos/v1/ns/service",
			url.Values{"serviceName": {fmt.Sprintf("rel-lin-%d", in.key)}, "groupName": {"LIN"}})
		ret := time.Since(w.t0).Nanoseconds()
		out := linUnknown
		switch {
		case code == 200:
			out = linOK
			w.linOK.Add(1)
		case code == 400 && strings.Contains(body, "already exists"):
			out = linConflict
			w.linConflict.Add(1)
		case code == 400 && strings.Contains(body, "not exist"):
			out = linNotFound
			w.linNotFound.Add(1)
		default:
			w.linUnknown.Add(1)
			ret = -1 // pending to the end of the history
		}
		note := fmt.Sprintf("node %d: %d %.80s", node, code, strings.TrimSpace(body))
		w.mu.Lock()
		w.history = append(w.history, porcupine.Operation{ClientId: id, Input: in, Call: call, Output: out, Return: ret, Metadata: note})
		w.mu.Unlock()
		if out == linUnknown {
			id += 1000 // the op may still be in flight: later ops are another client's
		}
	}
}

// stopWriting ends the churn and the CP clients and waits for them.
func (w *workload) stopWriting() {
	w.onceWrites.Do(func() { close(w.stopWrites) })
	w.writers.Wait()
}

// finish stops every client and waits for them; it is idempotent.
func (w *workload) finish() {
	w.onceWrites.Do(func() { close(w.stopWrites) })
	w.once.Do(func() { close(w.stop) })
	w.writers.Wait()
	w.wg.Wait()
}

// linHistory returns the history with ops of unknown fate returning after
// everything else.
func (w *workload) linHistory() []porcupine.Operation {
	w.mu.Lock()
	defer w.mu.Unlock()
	end := time.Since(w.t0).Nanoseconds() + 1
	out := make([]porcupine.Operation, len(w.history))
	for i, op := range w.history {
		if op.Return < 0 {
			op.Return = end
		}
		out[i] = op
	}
	return out
}

// hostView is one instance as a node lists it.
type hostView struct {
	IP        string  `json:"ip"`
	Port      int     `json:"port"`
	Healthy   bool    `json:"healthy"`
	Enabled   bool    `json:"enabled"`
	Ephemeral bool    `json:"ephemeral"`
	Weight    float64 `json:"weight"`
}

// listOn returns a node's instance list of svc, sorted, or an error text.
func (w *workload) listOn(i int, svc string) ([]hostView, error) {
	code, body := w.call(w.fast, i, http.MethodGet, "/nacos/v1/ns/instance/list", url.Values{"serviceName": {svc}})
	if code != 200 {
		return nil, fmt.Errorf("node %d list %s: %d %s", i, svc, code, body)
	}
	var v struct {
		Hosts []hostView `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return nil, err
	}
	sort.Slice(v.Hosts, func(a, b int) bool {
		if v.Hosts[a].IP != v.Hosts[b].IP {
			return v.Hosts[a].IP < v.Hosts[b].IP
		}
		return v.Hosts[a].Port < v.Hosts[b].Port
	})
	return v.Hosts, nil
}
