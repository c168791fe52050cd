package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// etcdMember is one etcd process of the reference cluster.
type etcdMember struct {
	*child
	client string // host:port of the client URL
}

// startEtcd runs a 3-member etcd cluster on loopback and waits until it has
// a leader.
func (h *harness) startEtcd(ctx context.Context) ([]*etcdMember, error) {
	dir, err := h.mkdir("etcd")
	if err != nil {
		return nil, err
	}
	taken := map[int]bool{}
	var clients, peers []int
	for i := 0; i < 6; i++ {
		p, err := pickUDPTCPPort(taken)
		if err != nil {
			return nil, err
		}
		if i < 3 {
			clients = append(clients, p)
		} else {
			peers = append(peers, p)
		}
	}
	var initial []string
	for i, p := range peers {
		initial = append(initial, fmt.Sprintf("e%d=http://127.0.0.1:%d", i+1, p))
	}
	var ms []*etcdMember
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("e%d", i+1)
		cu := fmt.Sprintf("http://127.0.0.1:%d", clients[i])
		pu := fmt.Sprintf("http://127.0.0.1:%d", peers[i])
		args := []string{"--name", name, "--data-dir", filepath.Join(dir, name),
			"--listen-client-urls", cu, "--advertise-client-urls", cu,
			"--listen-peer-urls", pu, "--initial-advertise-peer-urls", pu,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", "sextant-bench", "--logger", "zap", "--log-level", "warn"}
		c, err := h.procs.startEnv("etcd-"+name, h.tools.etcd, filepath.Join(dir, name+".log"), h.memberEnv(3), args...)
		if err != nil {
			return nil, err
		}
		ms = append(ms, &etcdMember{child: c, client: fmt.Sprintf("127.0.0.1:%d", clients[i])})
	}
	for _, m := range ms {
		if err := poll(ctx, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
			if done, err := m.exited(); done {
				return false, fmt.Errorf("%s exited: %v\n%s", m.name, err, m.logTail())
			}
			code, body, err := httpDo(ctx, "GET", m.client, "/health", nil, "")
			return err == nil && code == 200 && strings.Contains(string(body), `"true"`), nil
		}); err != nil {
			return nil, fmt.Errorf("etcd %s: %w", m.name, err)
		}
	}
	return ms, nil
}

// etcdLeader returns the member that is the leader.
func etcdLeader(ctx context.Context, ms []*etcdMember) (*etcdMember, error) {
	for _, m := range ms {
		var st struct {
			Header struct {
				MemberID string `json:"member_id"`
			} `json:"header"`
			Leader string `json:"leader"`
		}
		b, err := etcdPost(ctx, m.client, "/v3/maintenance/status", []byte("{}"))
		if err != nil {
			continue
		}
		if json.Unmarshal(b, &st) == nil && st.Leader != "" && st.Leader == st.Header.MemberID {
			return m, nil
		}
	}
	return nil, fmt.Errorf("no etcd member says it leads")
}

// etcdPost posts a JSON body to the etcd gRPC gateway.
func etcdPost(ctx context.Context, addr, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := benchClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("etcd %s: %d %s", path, resp.StatusCode, clip(b))
	}
	return b, nil
}

// etcdPutOp is a closed-loop operation putting 256-byte values under
// distinct keys, to target(seq).
func etcdPutOp(prefix string, target func(seq int64) string) opFunc {
	val := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("v"), 256))
	return func(ctx context.Context, _ int, seq int64) error {
		key := base64.StdEncoding.EncodeToString([]byte(prefix + strconv.FormatInt(seq, 10)))
		_, err := etcdPost(ctx, target(seq), "/v3/kv/put", []byte(`{"key":"`+key+`","value":"`+val+`"}`))
		return err
	}
}
