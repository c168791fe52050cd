package consensus

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"sextant/consensus/nodeauth"
	"sextant/consensus/raftcp"
	"sextant/naming"
)

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
