package consensus

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"sextant/consensus/raftcp"
	"sextant/naming"
)

// CPApplyPath is the internal endpoint a follower forwards CP ops to.
const CPApplyPath = "/sextant/v1/raft/apply"

// SecretHeader carries the cluster secret on node-to-node requests.
const SecretHeader = "X-Sextant-Secret"

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
type HTTPForwarder struct {
	Client *http.Client
	Secret string
	// Scheme is "http" (default) or "https".
	Scheme string
}

// NewHTTPForwarder returns a forwarder whose requests time out after timeout.
func NewHTTPForwarder(secret string, timeout time.Duration) *HTTPForwarder {
	return &HTTPForwarder{Client: &http.Client{Timeout: timeout}, Secret: secret, Scheme: "http"}
}

// ForwardCP implements CPForwarder.
func (f *HTTPForwarder) ForwardCP(ctx context.Context, leader string, op naming.Op) error {
	body, err := json.Marshal(op)
	if err != nil {
		return fmt.Errorf("forward: encode op: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.Scheme+"://"+leader+CPApplyPath, bytes.NewReader(body))
	if err != nil {
		return naming.Errorf(naming.ErrUnavailable, "forward to leader %s: %v", leader, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if f.Secret != "" {
		req.Header.Set(SecretHeader, f.Secret)
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return naming.Errorf(naming.ErrUnavailable, "raft leader %s unreachable: %v; retry", leader, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var w wireError
	if json.Unmarshal(b, &w) != nil || w.Kind == "" {
		return naming.Errorf(naming.ErrUnavailable, "raft leader %s answered %d: %s", leader, resp.StatusCode, bytes.TrimSpace(b))
	}
	return w.decode()
}

// CPApplyHandler serves CPApplyPath: it commits a forwarded op on this node,
// which must be the leader (a follower answers not-leader, naming the leader,
// and never forwards again, so forwarding cannot loop).
func CPApplyHandler(cp CPWriter, secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if secret != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), []byte(secret)) != 1 {
			http.Error(w, "cluster secret missing or wrong", http.StatusUnauthorized)
			return
		}
		var op naming.Op
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&op); err != nil {
			writeWireError(w, http.StatusBadRequest, naming.Errorf(naming.ErrInvalid, "bad op: %v", err))
			return
		}
		if !cp.IsLeader() {
			writeWireError(w, http.StatusConflict, &raftcp.NotLeaderError{Leader: cp.Leader()})
			return
		}
		if err := cp.Apply(r.Context(), op); err != nil {
			writeWireError(w, http.StatusConflict, err)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok"))
	})
}

func writeWireError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(encodeError(err))
}
