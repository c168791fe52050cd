package consensus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"sextant/consensus/nodeauth"
	"sextant/consensus/raftcp"
	"sextant/naming"
)

// HTTPForwarder forwards CP ops to the leader's node over HTTP.
//
// Group forwarding: ops forwarded to one leader while MaxInflight requests
// to it are already in flight wait, and the next request carries all of
// them (at most MaxBatch) as one batch; each caller gets its own op's
// result. Fewer requests cost both nodes less CPU; a few requests in
// flight keep the added wait short (BenchmarkForwardCP). Under light load an op goes out alone at once, in the single-op
// format. A leader that does not understand batches (an older node: it
// answers a batch with 400 and applies nothing) gets the ops one by one.
// No goroutine outlives the requests: there is nothing to close.
type HTTPForwarder struct {
	// Client sends the requests; each is bounded by its callers' contexts,
	// not by a client timeout.
	Client *http.Client
	Secret string
	// Timeout bounds a forward whose caller's context has no deadline.
	Timeout time.Duration
	// Scheme is "http" (default) or "https".
	Scheme string
	// MaxBatch bounds the ops of one request (0: MaxForwardBatch);
	// MaxInflight the requests in flight to one leader (0: 4).
	MaxBatch, MaxInflight int

	mu     sync.Mutex
	queues map[string]*fwdQueue
	conns  forwardConns // plain HTTP with the default client (cpconn.go)
}

// NewHTTPForwarder returns a forwarder whose requests end with their
// callers' contexts, and after timeout when a context has no deadline.
func NewHTTPForwarder(secret string, timeout time.Duration) *HTTPForwarder {
	return &HTTPForwarder{Client: &http.Client{}, Secret: secret, Scheme: "http", Timeout: timeout}
}

// fwdQueue holds the ops waiting for a request to one leader.
type fwdQueue struct {
	leader   string
	mu       sync.Mutex
	pending  []*fwdCall
	inflight int
	// singleUntil: the leader refused a batch; send it single ops until then.
	singleUntil time.Time
}

// fwdCall states: a sender and an impatient caller race for a pending call;
// whoever wins decides whether the op is sent.
const (
	callPending int32 = iota
	callTaken
	callAbandoned
)

type fwdCall struct {
	op    naming.Op
	ctx   context.Context
	state atomic.Int32
	done  chan error // buffered: a sender never blocks on a caller
}

// singleRetry is how long a leader that refused a batch gets single ops.
const singleRetry = time.Minute

func (f *HTTPForwarder) maxBatch() int {
	if f.MaxBatch > 0 {
		return min(f.MaxBatch, MaxForwardBatch)
	}
	return MaxForwardBatch
}

func (f *HTTPForwarder) maxInflight() int {
	if f.MaxInflight > 0 {
		return f.MaxInflight
	}
	return 4
}

func (f *HTTPForwarder) queue(leader string) *fwdQueue {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.queues == nil {
		f.queues = map[string]*fwdQueue{}
	}
	q := f.queues[leader]
	if q == nil {
		q = &fwdQueue{leader: leader}
		f.queues[leader] = q
	}
	return q
}

// ForwardCP implements CPForwarder. It returns the op's own result from the
// leader, or an error wrapping naming.ErrUnavailable when the leader could
// not be reached or ctx ended first (the message says whether the op may
// still be written).
func (f *HTTPForwarder) ForwardCP(ctx context.Context, leader string, op naming.Op) error {
	if err := ctx.Err(); err != nil {
		return naming.Errorf(naming.ErrUnavailable, "request abandoned before it was forwarded to the raft leader: %v", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout())
		defer cancel()
	}
	q := f.queue(leader)
	c := &fwdCall{op: op, ctx: ctx, done: make(chan error, 1)}
	q.mu.Lock()
	q.pending = append(q.pending, c)
	start := q.inflight < f.maxInflight()
	if start {
		q.inflight++
	}
	q.mu.Unlock()
	if start {
		go f.drain(q)
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		select {
		case err := <-c.done: // the answer came in time after all
			return err
		default:
		}
		if c.state.CompareAndSwap(callPending, callAbandoned) {
			return naming.Errorf(naming.ErrUnavailable, "request abandoned before it was forwarded to the raft leader: %v", ctx.Err())
		}
		return naming.Errorf(naming.ErrUnavailable, "no answer from raft leader %s in time: the write may or may not be done: %v", leader, ctx.Err())
	}
}

func (f *HTTPForwarder) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return 5 * time.Second
}

// batchContext bounds a request that carries calls: it ends at the latest
// of their deadlines (each caller stops waiting at its own), so one caller
// leaving does not cut the request short for the others.
func batchContext(calls []*fwdCall) (context.Context, context.CancelFunc) {
	var last time.Time
	for _, c := range calls {
		if d, ok := c.ctx.Deadline(); ok && d.After(last) {
			last = d
		}
	}
	return context.WithDeadline(context.Background(), last)
}

// drain sends what is queued for q's leader until nothing is left, then
// frees its slot.
func (f *HTTPForwarder) drain(q *fwdQueue) {
	max := f.maxBatch()
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.inflight--
			q.mu.Unlock()
			return
		}
		batch := q.pending
		if len(batch) > max {
			q.pending = append([]*fwdCall(nil), batch[max:]...)
			batch = batch[:max]
		} else {
			q.pending = nil
		}
		single := time.Now().Before(q.singleUntil)
		q.mu.Unlock()
		live := batch[:0:0]
		for _, c := range batch {
			if c.state.CompareAndSwap(callPending, callTaken) {
				live = append(live, c)
			}
		}
		switch {
		case len(live) == 0:
		case len(live) == 1:
			live[0].done <- f.sendOne(live[0].ctx, q.leader, live[0].op)
		case single:
			f.sendEach(q.leader, live)
		default:
			f.sendBatch(q, live)
		}
	}
}

// sendEach sends every call as its own request, concurrently.
func (f *HTTPForwarder) sendEach(leader string, calls []*fwdCall) {
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.done <- f.sendOne(c.ctx, leader, c.op)
		}()
	}
	wg.Wait()
}

// post sends body to the leader's CPApplyPath, bounded by ctx, whose
// deadline it tells the leader.
func (f *HTTPForwarder) post(ctx context.Context, leader, contentType string, body []byte) (*http.Response, []byte, error) {
	scheme := f.Scheme
	if scheme == "" {
		scheme = "http"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, scheme+"://"+leader+CPApplyPath, bytes.NewReader(body))
	if err != nil {
		return nil, nil, naming.Errorf(naming.ErrUnavailable, "forward to leader %s: %v", leader, err)
	}
	req.Header.Set("Content-Type", contentType)
	nodeauth.Sign(req, f.Secret, body, time.Now())
	if d, ok := ctx.Deadline(); ok {
		req.Header.Set(BudgetHeader, strconv.FormatInt(time.Until(d).Milliseconds(), 10))
	}
	if scheme == "http" && (f.Client == nil || f.Client.Transport == nil) {
		resp, b, sent, err := f.conns.do(ctx, leader, req, body, maxBatchBody)
		switch {
		case err == nil:
			return resp, b, nil
		case ctx.Err() != nil:
			return nil, nil, naming.Errorf(naming.ErrUnavailable, "no answer from raft leader %s in time: the write may or may not be done: %v", leader, ctx.Err())
		case !sent:
			return nil, nil, naming.Errorf(naming.ErrUnavailable, "raft leader %s unreachable: %v; retry", leader, err)
		default:
			return nil, nil, naming.Errorf(naming.ErrUnavailable, "raft leader %s: no answer: %v; the write may or may not be done", leader, err)
		}
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, naming.Errorf(naming.ErrUnavailable, "no answer from raft leader %s in time: the write may or may not be done: %v", leader, ctx.Err())
		}
		return nil, nil, naming.Errorf(naming.ErrUnavailable, "raft leader %s unreachable: %v; retry", leader, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBatchBody))
	if err != nil {
		return nil, nil, naming.Errorf(naming.ErrUnavailable, "raft leader %s: reading its answer: %v; the write may or may not be done", leader, err)
	}
	return resp, b, nil
}

// sendOne forwards one op in the single-op format.
func (f *HTTPForwarder) sendOne(ctx context.Context, leader string, op naming.Op) error {
	body, err := raftcp.EncodeOp(op)
	if err != nil {
		return fmt.Errorf("forward: encode op: %w", err)
	}
	resp, b, err := f.post(ctx, leader, "application/json", body)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return answerError(leader, resp.StatusCode, b)
}

// answerError decodes a wireError answer, or describes an unexpected one.
func answerError(leader string, status int, b []byte) error {
	var w wireError
	if json.Unmarshal(b, &w) != nil || w.Kind == "" {
		return naming.Errorf(naming.ErrUnavailable, "raft leader %s answered %d: %s", leader, status, bytes.TrimSpace(b))
	}
	return w.decode()
}

// sendBatch forwards calls as one batch and hands each its own result.
func (f *HTTPForwarder) sendBatch(q *fwdQueue, calls []*fwdCall) {
	ops := make([]naming.Op, len(calls))
	for i, c := range calls {
		ops[i] = c.op
	}
	body, err := raftcp.EncodeOps(ops)
	if err != nil {
		f.sendEach(q.leader, calls) // one bad op must not fail the others
		return
	}
	ctx, cancel := batchContext(calls)
	defer cancel()
	resp, b, err := f.post(ctx, q.leader, OpsContentType, body)
	if err != nil {
		failAll(calls, err)
		return
	}
	if !isOpsAnswer(resp) {
		if resp.StatusCode == http.StatusBadRequest {
			// A leader that reads one op per request refuses the array
			// without applying anything: send the ops one by one.
			q.mu.Lock()
			q.singleUntil = time.Now().Add(singleRetry)
			q.mu.Unlock()
			f.sendEach(q.leader, calls)
			return
		}
		failAll(calls, answerError(q.leader, resp.StatusCode, b))
		return
	}
	var res []*wireError
	if err := json.Unmarshal(b, &res); err != nil || len(res) != len(calls) {
		failAll(calls, naming.Errorf(naming.ErrUnavailable, "raft leader %s gave an unreadable answer to %d writes; they may or may not be done", q.leader, len(calls)))
		return
	}
	for i, c := range calls {
		if res[i] == nil {
			c.done <- nil
		} else {
			c.done <- res[i].decode()
		}
	}
}

func failAll(calls []*fwdCall, err error) {
	for _, c := range calls {
		c.done <- err
	}
}

func isOpsAnswer(resp *http.Response) bool {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return err == nil && mt == OpsContentType && resp.StatusCode == http.StatusOK
}
