package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// pushUA is the User-Agent of the subscribers: a Java client, to which
// Nacos pushes.
const pushUA = "Nacos-Java-Client:v1.4.1"

// decodePush reads a push datagram (gzip when it starts with the gzip
// magic): the list JSON it carries and its lastRefTime.
func decodePush(b []byte) (data string, seq string, err error) {
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return "", "", err
		}
		if b, err = io.ReadAll(io.LimitReader(zr, 1<<20)); err != nil {
			return "", "", err
		}
	}
	var p struct {
		Type        string          `json:"type"`
		Data        string          `json:"data"`
		LastRefTime json.RawMessage `json:"lastRefTime"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return "", "", err
	}
	return p.Data, string(bytes.Trim(p.LastRefTime, `"`)), nil
}

// subscriber is one UDP socket subscribed to the service.
type subscriber struct {
	conn *net.UDPConn
	port int
	got  []atomic.Int64 // per round: unix nanos of the first push carrying its marker
}

// scenarioPush: K UDP subscribers of one service; a change is made and
// the delay until each subscriber has the push is measured, per round.
func (h *harness) scenarioPush(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 1)
	if err != nil {
		return err
	}
	nd := nodes[0]
	const service = "push-bench"
	if _, err := h.populate(ctx, nodes, 1, 1, true, keepAlive, func(i int) inst { return inst{service, instanceIP(i), 8000} }); err != nil {
		return err
	}
	rounds := o.pushRounds
	markers := make([]string, rounds)
	for r := range markers {
		markers[r] = instanceIP(5_000_000 + r)
	}
	subs := make([]*subscriber, o.pushSubscribers)
	defer func() {
		for _, s := range subs {
			if s != nil {
				s.conn.Close()
			}
		}
	}()
	for i := range subs {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return fmt.Errorf("subscriber socket %d: %w (open-file limit?)", i, err)
		}
		subs[i] = &subscriber{conn: c, port: c.LocalAddr().(*net.UDPAddr).Port, got: make([]atomic.Int64, rounds)}
		if err := enableRxTime(c); err != nil {
			return fmt.Errorf("subscriber socket %d: receive timestamps: %w", i, err)
		}
	}
	var wg sync.WaitGroup
	var acks atomic.Int64
	// Each reader blocks until a datagram comes or its socket is closed at
	// the end; the arrival time is the kernel's, so readers waiting for a
	// core do not add to the measured delay.
	for _, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 65536)
			oob := make([]byte, rxTimeOOB)
			for {
				n, oobn, _, from, err := s.conn.ReadMsgUDP(buf, oob)
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					continue
				}
				at := rxTime(oob[:oobn]).UnixNano()
				data, seq, err := decodePush(buf[:n])
				if err != nil {
					continue
				}
				ack := `{"type":"push-ack","lastRefTime":"` + seq + `","data":""}`
				if _, err := s.conn.WriteToUDP([]byte(ack), from); err == nil {
					acks.Add(1)
				}
				for r, m := range markers {
					if bytes.Contains([]byte(data), []byte(`"`+m+`"`)) {
						s.got[r].CompareAndSwap(0, at)
					}
				}
			}
		}()
	}
	subscribe := func() loadResult {
		return runClosedLoop(ctx, 32, time.Minute, int64(len(subs)), func(ctx context.Context, _ int, seq int64) error {
			s := subs[seq]
			v := url.Values{"udpPort": {strconv.Itoa(s.port)}, "clientIP": {"127.0.0.1"}}
			return httpOp(ctx, "GET", nd.http, listPath(service, v), nil, pushUA, nil)
		})
	}
	var delays []time.Duration
	missed := 0
	var subRate float64
	for r := 0; r < rounds; r++ {
		sr := subscribe()
		if sr.Failed > 0 {
			return fmt.Errorf("subscribe: %d failed: %s", sr.Failed, sr.FirstErr)
		}
		subRate = sr.Rate()
		t0 := time.Now()
		if err := httpOp(ctx, "POST", nd.http, "/nacos/v1/ns/instance", registerForm(service, markers[r], 8000, true, keepAlive), "", nil); err != nil {
			return fmt.Errorf("change: %w", err)
		}
		_ = poll(ctx, 15*time.Second, 20*time.Millisecond, func() (bool, error) {
			for _, s := range subs {
				if s.got[r].Load() == 0 {
					return false, nil
				}
			}
			return true, nil
		})
		for _, s := range subs {
			if at := s.got[r].Load(); at != 0 {
				delays = append(delays, time.Unix(0, at).Sub(t0))
			} else {
				missed++
			}
		}
	}
	for _, s := range subs {
		s.conn.Close()
	}
	wg.Wait()
	lat := summarize(delays)
	note := fmt.Sprintf("%d subscribers × %d changes; received %d, missed %d (within 15 s); %d acks sent; subscriptions at %s/s; max %s",
		len(subs), rounds, len(delays), missed, acks.Load(), fmtCount(subRate), fmtDur(lat.Max))
	rep.add(row{Scenario: "push", Metric: fmt.Sprintf("change → push delay p50 / p99, %s subscribers", fmtCount(float64(len(subs)))),
		Sextant: fmtDur(lat.P50) + " / " + fmtDur(lat.P99), Target: "p99 < 1 s (issue: 10,000 subscribers)",
		Verdict: judge(missed == 0 && lat.N > 0 && lat.P99 < time.Second), Note: note})
	return nil
}
