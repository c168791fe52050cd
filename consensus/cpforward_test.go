package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sextant/consensus/raftcp"
	"sextant/naming"
)

// fakeCP is a leader (or follower) whose Apply records ops; it fails the
// ops whose instance IP is listed in conflict, and waits on gate (when
// set) before answering.
type fakeCP struct {
	mu       sync.Mutex
	leader   bool
	leaderID string
	applied  map[string]int // instance IP → times applied
	conflict map[string]bool
	gate     chan struct{}
	entered  chan string // receives the IP of every op Apply starts on
}

func newFakeCP() *fakeCP {
	return &fakeCP{leader: true, leaderID: "self:8848", applied: map[string]int{}, conflict: map[string]bool{},
		entered: make(chan string, 1024)}
}

func (f *fakeCP) Apply(ctx context.Context, op naming.Op) error {
	ip := op.Instance.IP
	f.entered <- ip
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return naming.Errorf(naming.ErrUnavailable, "abandoned")
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conflict[ip] {
		return naming.Errorf(naming.ErrConflict, "instance %s conflicts", ip)
	}
	f.applied[ip]++
	return nil
}

func (f *fakeCP) IsLeader() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leader
}

func (f *fakeCP) Leader() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leaderID
}

func (f *fakeCP) setLeader(leader bool, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leader, f.leaderID = leader, id
}

func (f *fakeCP) setConflict(ip string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.conflict[ip] = true
}

func (f *fakeCP) count(ip string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied[ip]
}

// requestLog counts the requests a handler serves and the ops in each.
type requestLog struct {
	mu    sync.Mutex
	sizes []int
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n := 1
		if strings.HasPrefix(strings.TrimSpace(string(body)), "[") {
			var ops []json.RawMessage
			_ = json.Unmarshal(body, &ops)
			n = len(ops)
		}
		l.mu.Lock()
		l.sizes = append(l.sizes, n)
		l.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		h.ServeHTTP(w, r)
	})
}

func (l *requestLog) get() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.sizes...)
}

func fwdWaitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func startLeader(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func pendingOps(f *HTTPForwarder, leader string) int {
	q := f.queue(leader)
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

func TestForwardCPCarriesResultsAndErrors(t *testing.T) {
	cp := newFakeCP()
	cp.conflict["10.0.0.2"] = true
	addr := startLeader(t, CPApplyHandler(cp, "s3cret"))
	f := NewHTTPForwarder("s3cret", 5*time.Second)
	ctx := context.Background()

	if err := f.ForwardCP(ctx, addr, register(svcA, "10.0.0.1", false)); err != nil {
		t.Fatalf("forward: %v", err)
	}
	if cp.count("10.0.0.1") != 1 {
		t.Fatalf("op applied %d times, want 1", cp.count("10.0.0.1"))
	}
	err := f.ForwardCP(ctx, addr, register(svcA, "10.0.0.2", false))
	if !errors.Is(err, naming.ErrConflict) || err.Error() != "instance 10.0.0.2 conflicts" {
		t.Fatalf("forward: got %v, want the leader's conflict", err)
	}

	cp.setLeader(false, "other:8848")
	err = f.ForwardCP(ctx, addr, register(svcA, "10.0.0.3", false))
	if !errors.Is(err, raftcp.ErrNotLeader) || LeaderHint(err) != "other:8848" {
		t.Fatalf("forward to a follower: got %v, want not-leader naming other:8848", err)
	}

	bad := NewHTTPForwarder("wrong", 5*time.Second)
	err = bad.ForwardCP(ctx, addr, register(svcA, "10.0.0.4", false))
	if !errors.Is(err, naming.ErrUnavailable) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("forward with a wrong secret: got %v, want unavailable (401)", err)
	}
	if cp.count("10.0.0.4") != 0 {
		t.Fatal("an unauthorized op was applied")
	}
}

// Ops forwarded while a request is in flight go together in the next
// request, and each caller gets its own op's result.
func TestForwardCPBatchesWhileInFlight(t *testing.T) {
	cp := newFakeCP()
	cp.gate = make(chan struct{})
	var log requestLog
	addr := startLeader(t, log.wrap(CPApplyHandler(cp, "")))
	f := NewHTTPForwarder("", 5*time.Second)
	f.MaxInflight = 1
	ctx := context.Background()

	const n = 20
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); errs[0] = f.ForwardCP(ctx, addr, register(svcA, "10.0.1.0", false)) }()
	if ip := <-cp.entered; ip != "10.0.1.0" {
		t.Fatalf("first op applied: %s", ip)
	}
	for i := 1; i <= n; i++ {
		ip := fmt.Sprintf("10.0.1.%d", i)
		if i%3 == 0 {
			cp.setConflict(ip)
		}
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f.ForwardCP(ctx, addr, register(svcA, ip, false)) }()
	}
	fwdWaitFor(t, 5*time.Second, func() bool { return pendingOps(f, addr) == n })
	close(cp.gate)
	wg.Wait()

	for i, err := range errs {
		ip := fmt.Sprintf("10.0.1.%d", i)
		if i > 0 && i%3 == 0 {
			if !errors.Is(err, naming.ErrConflict) || !strings.Contains(err.Error(), ip) {
				t.Errorf("op %d: got %v, want its own conflict", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("op %d: %v", i, err)
		}
		if c := cp.count(ip); c != 1 {
			t.Errorf("op %d applied %d times", i, c)
		}
	}
	if got := log.get(); len(got) != 2 || got[0] != 1 || got[1] != n {
		t.Fatalf("requests carried %v ops, want [1 %d]", got, n)
	}
}

// oldApplyHandler reads one op per request, as nodes did before batches.
func oldApplyHandler(cp CPWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var op naming.Op
		if err := json.NewDecoder(r.Body).Decode(&op); err != nil {
			writeWireError(w, http.StatusBadRequest, naming.Errorf(naming.ErrInvalid, "bad op: %v", err))
			return
		}
		if err := cp.Apply(r.Context(), op); err != nil {
			writeWireError(w, http.StatusConflict, err)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
}

// A leader that reads one op per request gets the batch's ops one by one,
// and each is applied once.
func TestForwardCPFallsBackToSingleOps(t *testing.T) {
	cp := newFakeCP()
	cp.gate = make(chan struct{})
	var log requestLog
	addr := startLeader(t, log.wrap(oldApplyHandler(cp)))
	f := NewHTTPForwarder("", 5*time.Second)
	f.MaxInflight = 1
	ctx := context.Background()

	const n = 5
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); errs[0] = f.ForwardCP(ctx, addr, register(svcA, "10.0.2.0", false)) }()
	<-cp.entered
	cp.setConflict("10.0.2.2")
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.ForwardCP(ctx, addr, register(svcA, fmt.Sprintf("10.0.2.%d", i), false))
		}()
	}
	fwdWaitFor(t, 5*time.Second, func() bool { return pendingOps(f, addr) == n })
	close(cp.gate)
	wg.Wait()
	for i, err := range errs {
		if i == 2 {
			if !errors.Is(err, naming.ErrConflict) {
				t.Errorf("op 2: got %v, want conflict", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("op %d: %v", i, err)
		}
		if c := cp.count(fmt.Sprintf("10.0.2.%d", i)); c != 1 {
			t.Errorf("op %d applied %d times", i, c)
		}
	}
	// 1 single, 1 refused batch, then n singles.
	if got := log.get(); len(got) != n+2 || got[1] != n {
		t.Fatalf("requests carried %v ops", got)
	}
}

// A caller that gives up before its op is sent leaves nothing behind.
func TestForwardCPAbandonedBeforeSendIsNotWritten(t *testing.T) {
	cp := newFakeCP()
	cp.gate = make(chan struct{})
	addr := startLeader(t, CPApplyHandler(cp, ""))
	f := NewHTTPForwarder("", 5*time.Second)
	f.MaxInflight = 1

	done := make(chan error, 1)
	go func() { done <- f.ForwardCP(context.Background(), addr, register(svcA, "10.0.3.1", false)) }()
	<-cp.entered
	ctx, cancel := context.WithCancel(context.Background())
	late := make(chan error, 1)
	go func() { late <- f.ForwardCP(ctx, addr, register(svcA, "10.0.3.2", false)) }()
	fwdWaitFor(t, 5*time.Second, func() bool { return pendingOps(f, addr) == 1 })
	cancel()
	err := <-late
	if !errors.Is(err, naming.ErrUnavailable) || !strings.Contains(err.Error(), "before it was forwarded") {
		t.Fatalf("abandoned op: got %v", err)
	}
	close(cp.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The sender drains the queue after the first answer; the abandoned op
	// is skipped. Forward one more op to be sure the queue was drained.
	if err := f.ForwardCP(context.Background(), addr, register(svcA, "10.0.3.3", false)); err != nil {
		t.Fatal(err)
	}
	if c := cp.count("10.0.3.2"); c != 0 {
		t.Fatalf("abandoned op applied %d times", c)
	}
}

func TestForwardCPUnreachableLeader(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	f := NewHTTPForwarder("", 2*time.Second)
	err := f.ForwardCP(context.Background(), addr, register(svcA, "10.0.4.1", false))
	if !errors.Is(err, naming.ErrUnavailable) || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("got %v, want unavailable", err)
	}
}

func postBatch(t *testing.T, addr string, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+CPApplyPath, strings.NewReader(body))
	req.Header.Set("Content-Type", OpsContentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestCPApplyHandlerBatch(t *testing.T) {
	cp := newFakeCP()
	cp.conflict["10.0.5.2"] = true
	addr := startLeader(t, CPApplyHandler(cp, ""))
	ops := []naming.Op{register(svcA, "10.0.5.1", false), register(svcA, "10.0.5.2", false)}
	body, _ := json.Marshal(ops)

	resp, b := postBatch(t, addr, string(body))
	var res []*wireError
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != OpsContentType || json.Unmarshal(b, &res) != nil {
		t.Fatalf("batch answer: %d %s", resp.StatusCode, b)
	}
	if len(res) != 2 || res[0] != nil || res[1] == nil || res[1].Kind != "conflict" {
		t.Fatalf("results: %s", b)
	}

	cp.setLeader(false, "other:8848")
	_, b = postBatch(t, addr, string(body))
	if err := json.Unmarshal(b, &res); err != nil || len(res) != 2 || res[0] == nil || res[0].Kind != "not-leader" || res[0].Leader != "other:8848" {
		t.Fatalf("follower's batch answer: %s", b)
	}

	for _, bad := range []string{"[]", "[{", `{"kind":1}`} {
		resp, b = postBatch(t, addr, bad)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `"invalid"`) {
			t.Errorf("batch %q: %d %s, want 400 invalid", bad, resp.StatusCode, b)
		}
	}
	if cp.count("10.0.5.1") != 1 {
		t.Fatalf("op applied %d times", cp.count("10.0.5.1"))
	}
}

// delayCP commits every op after a fixed delay, as a leader whose entries
// take a disk write and a round trip to commit.
type delayCP struct{ d time.Duration }

func (c delayCP) Apply(ctx context.Context, _ naming.Op) error {
	t := time.NewTimer(c.d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (delayCP) IsLeader() bool { return true }
func (delayCP) Leader() string { return "" }

// BenchmarkForwardCP forwards ops from 16 writers to a leader that takes
// 3 ms per commit. "one-per-op" is one request per op (as before group
// forwarding); "grouped-net-http" sends the grouped requests through
// net/http's client instead of the forwarder's own connections;
// cpu-µs/op covers both ends, which share this process.
func BenchmarkForwardCP(b *testing.B) {
	for _, mode := range []string{"grouped", "grouped-net-http", "grouped-4-inflight", "one-per-op"} {
		b.Run(mode, func(b *testing.B) {
			var log requestLog
			srv := httptest.NewServer(log.wrap(CPApplyHandler(delayCP{3 * time.Millisecond}, "")))
			defer srv.Close()
			addr := strings.TrimPrefix(srv.URL, "http://")
			f := NewHTTPForwarder("", 5*time.Second)
			switch mode {
			case "one-per-op":
				f.MaxBatch, f.MaxInflight = 1, 1<<20
			case "grouped-4-inflight":
				f.MaxInflight = 4
			case "grouped-net-http":
				f.Client.Transport = http.DefaultTransport
			}
			op := register(svcA, "10.0.9.1", false)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			cpu0 := processCPU()
			for w := 0; w < 16; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						if err := f.ForwardCP(context.Background(), addr, op); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			cpu := processCPU() - cpu0
			b.StopTimer()
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(len(log.get()))/float64(b.N), "requests/op")
		})
	}
}

// processCPU is the CPU time (user and system) this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCPApplyRefusesUnsignedRequests is the attack of issue 16: a POST to
// the leader's apply path without a signature, creating a user and making
// it an administrator, must be refused and apply nothing; the forwarder,
// holding the secret, still gets through.
func TestCPApplyRefusesUnsignedRequests(t *testing.T) {
	cp := newFakeCP()
	addr := startLeader(t, CPApplyHandler(cp, "the-cluster-secret"))
	for _, body := range []string{
		`{"kind":16,"user":{"username":"mallory","password":"x"}}`,
		`{"kind":19,"roleBinding":{"role":"ROLE_ADMIN","username":"mallory"}}`,
	} {
		resp, err := http.Post("http://"+addr+CPApplyPath, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unsigned apply: HTTP %d, want 401", resp.StatusCode)
		}
	}
	select {
	case ip := <-cp.entered:
		t.Fatalf("an unsigned op reached Apply (%q)", ip)
	default:
	}
	if err := NewHTTPForwarder("wrong-secret-0000", time.Second).ForwardCP(context.Background(), addr, register(svcA, "10.0.7.1", false)); err == nil {
		t.Fatal("an op signed with another secret was applied")
	}
	if err := NewHTTPForwarder("the-cluster-secret", time.Second).ForwardCP(context.Background(), addr, register(svcA, "10.0.7.2", false)); err != nil {
		t.Fatalf("signed forward: %v", err)
	}
	if cp.count("10.0.7.1") != 0 || cp.count("10.0.7.2") != 1 {
		t.Fatalf("applied: %v", cp.applied)
	}
}
