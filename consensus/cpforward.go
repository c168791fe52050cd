package consensus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// CPApplyPath is the internal endpoint a follower forwards CP ops to.
//
// A request carries one op (a JSON naming.Op, answered 200 "ok" or with a
// wireError) or, with Content-Type OpsContentType, a batch: a JSON array
// of ops, answered 200 with a JSON array holding, per op and in order,
// null (committed) or its wireError. A request that fails as a whole
// (unauthorized, unreadable) is answered with one wireError and nothing
// of it was applied.
const CPApplyPath = "/sextant/v1/raft/apply"

// OpsContentType marks a batch of ops, and the answer to one.
const OpsContentType = "application/vnd.sextant.ops+json"

// BudgetHeader carries, in milliseconds, how long the forwarding node still
// waits for the answer; the leader gives up on the ops in time to answer.
const BudgetHeader = "X-Sextant-Budget-Ms"

// Bounds of the request bodies CPApplyHandler reads.
const (
	maxOpBody    = 4 << 20
	maxBatchBody = 32 << 20
	// MaxForwardBatch is the most ops one forwarded request carries.
	MaxForwardBatch = 256
)

// wireError is how an op's error crosses between nodes: its kind, its
// message for the client, and the leader when the kind is "not-leader".
type wireError struct {
	Kind   string `json:"kind"`
	Msg    string `json:"msg"`
	Leader string `json:"leader,omitempty"`
}

var kinds = []struct {
	name string
	err  error
}{
	{"invalid", naming.ErrInvalid}, {"not-found", naming.ErrNotFound}, {"conflict", naming.ErrConflict},
	{"forbidden", naming.ErrForbidden}, {"too-large", naming.ErrTooLarge}, {"unavailable", naming.ErrUnavailable},
}

func encodeError(err error) wireError {
	if h := LeaderHint(err); errors.Is(err, raftcp.ErrNotLeader) {
		return wireError{Kind: "not-leader", Msg: err.Error(), Leader: h}
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return wireError{Kind: k.name, Msg: err.Error()}
		}
	}
	return wireError{Kind: "internal", Msg: err.Error()}
}

func (w wireError) decode() error {
	if w.Kind == "not-leader" {
		return &raftcp.NotLeaderError{Leader: w.Leader}
	}
	for _, k := range kinds {
		if w.Kind == k.name {
			return &naming.Error{Kind: k.err, Msg: w.Msg}
		}
	}
	return errors.New(w.Msg)
}

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

// CPApplyHandler serves CPApplyPath: it commits forwarded ops on this node,
// which must be the leader (a follower answers not-leader, naming the leader,
// and never forwards again, so forwarding cannot loop). The ops of a batch
// are committed concurrently, so they share raft entries (group commit),
// and each gets its own result.
//
// With a secret, only requests signed with it are read (consensus/nodeauth).
func CPApplyHandler(cp CPWriter, secret string) http.Handler {
	return nodeauth.Require(secret, maxBatchBody, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ctx, cancel := budgetContext(r)
		defer cancel()
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == OpsContentType {
			serveBatch(ctx, w, r, cp)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxOpBody))
		if err != nil {
			writeWireError(w, http.StatusBadRequest, naming.Errorf(naming.ErrInvalid, "bad op: %v", err))
			return
		}
		op, ok := raftcp.DecodeOpFast(body)
		if !ok {
			if err := json.NewDecoder(bytes.NewReader(body)).Decode(&op); err != nil {
				writeWireError(w, http.StatusBadRequest, naming.Errorf(naming.ErrInvalid, "bad op: %v", err))
				return
			}
		}
		if !cp.IsLeader() {
			writeWireError(w, http.StatusConflict, &raftcp.NotLeaderError{Leader: cp.Leader()})
			return
		}
		if err := cp.Apply(ctx, op); err != nil {
			writeWireError(w, http.StatusConflict, err)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok"))
	}))
}

// serveBatch commits a batch of forwarded ops and answers one result per op.
func serveBatch(ctx context.Context, w http.ResponseWriter, r *http.Request, cp CPWriter) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBatchBody))
	if err != nil {
		writeWireError(w, http.StatusBadRequest, naming.Errorf(naming.ErrInvalid, "bad ops: %v", err))
		return
	}
	// The fast reader takes the ops forwarders write; anything else is read
	// by encoding/json, with its errors.
	ops, ok := raftcp.DecodeOpsFast(body)
	if !ok {
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&ops); err != nil {
			writeWireError(w, http.StatusBadRequest, naming.Errorf(naming.ErrInvalid, "bad ops: %v", err))
			return
		}
	}
	if len(ops) == 0 || len(ops) > MaxForwardBatch {
		writeWireError(w, http.StatusBadRequest, naming.Errorf(naming.ErrInvalid, "a batch carries 1 to %d ops, not %d", MaxForwardBatch, len(ops)))
		return
	}
	res := make([]*wireError, len(ops))
	if !cp.IsLeader() {
		e := encodeError(&raftcp.NotLeaderError{Leader: cp.Leader()})
		for i := range res {
			res[i] = &e
		}
	} else {
		var wg sync.WaitGroup
		for i := range ops {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := cp.Apply(ctx, ops[i]); err != nil {
					e := encodeError(err)
					res[i] = &e
				}
			}()
		}
		wg.Wait()
	}
	b, err := json.Marshal(res)
	if err != nil {
		writeWireError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", OpsContentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// budgetMargin is what the leader keeps of the forwarder's budget to carry
// its answer back in time.
const budgetMargin = 50 * time.Millisecond

// budgetContext is the request's context, ended when the forwarder stops
// waiting (BudgetHeader), less budgetMargin.
func budgetContext(r *http.Request) (context.Context, context.CancelFunc) {
	ms, err := strconv.ParseInt(r.Header.Get(BudgetHeader), 10, 64)
	if err != nil || ms <= 0 {
		return context.WithCancel(r.Context())
	}
	d := time.Duration(ms)*time.Millisecond - budgetMargin
	return context.WithTimeout(r.Context(), max(d, time.Millisecond))
}

func writeWireError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(encodeError(err))
}
