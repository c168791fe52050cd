package main

import (
	"encoding/json"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// raftLeaderOf is the HTTP address of the Raft leader as p names it in
// /raft/leader (a Nacos RaftPeer, as a JSON string), "" for none.
func raftLeaderOf(p *proc) string {
	_, body := p.get("/nacos/v1/ns/raft/leader", nil)
	var v struct{ Leader string }
	var peer struct{ IP string }
	_ = json.Unmarshal([]byte(body), &v)
	_ = json.Unmarshal([]byte(v.Leader), &peer)
	return peer.IP
}

// raftAddrOfProc is the Raft address of a member: its HTTP port − 1000.
func raftAddrOfProc(t *testing.T, p *proc) string {
	t.Helper()
	a, err := raftAddrOf(p.httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestNewLeaderUnderRaftPortFlood is the Raft attack of issue 16 on real
// processes (members on 127.0.0.1, .2 and .3): idle connections flood the
// followers' Raft ports at about 750 a second, from a stranger's address
// and from the followers' own, then the leader is killed. A new leader must
// be elected within 5 s.
func TestNewLeaderUnderRaftPortFlood(t *testing.T) {
	ps := startClusterOn(t, []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"})
	var lp *proc
	var rest []*proc
	waitFor(t, 20*time.Second, "a leader", func() bool {
		lp, rest = nil, nil
		l := raftLeaderOf(ps[0])
		for _, p := range ps {
			if p.httpAddr == l {
				lp = p
			} else {
				rest = append(rest, p)
			}
		}
		return lp != nil
	})
	var targets, sources []string
	for _, p := range rest {
		targets = append(targets, raftAddrOfProc(t, p))
		host, _, _ := net.SplitHostPort(p.httpAddr)
		sources = append(sources, host)
	}
	sources = append(sources, "127.0.0.99")

	// 6 (source, target) pairs, one connection each per 8 ms: 750/s.
	flood := floodRaft(sources, targets, 8*time.Millisecond)
	stopped := false
	defer func() {
		if !stopped {
			flood()
		}
	}()
	time.Sleep(time.Second) // the flood takes every slot it can first
	start := time.Now()
	lp.kill()
	var took time.Duration
	elected := ""
	for time.Since(start) < 20*time.Second && elected == "" {
		for _, p := range rest {
			if l := raftLeaderOf(p); l == rest[0].httpAddr || l == rest[1].httpAddr {
				elected, took = l, time.Since(start)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	opened := flood()
	stopped = true
	rate := float64(opened) / time.Since(start.Add(-time.Second)).Seconds()
	t.Logf("flood of %d connections (%.0f/s): new leader %q after %s", opened, rate, elected, took.Round(time.Millisecond))
	if elected == "" || took > 5*time.Second {
		t.Fatalf("no new leader within 5 s of the leader's death under the flood (%s after %s)", strconv.Quote(elected), took)
	}
}

// floodRaft opens idle connections from every source address ("" for any)
// to every target, one per interval per pair, holding the last 300 of
// each pair open, until the returned stop is called; stop returns how many
// were opened.
func floodRaft(sources, targets []string, interval time.Duration) (stop func() int64) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var opened atomic.Int64
	for _, src := range sources {
		for _, dst := range targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := net.Dialer{Timeout: 200 * time.Millisecond}
				if src != "" {
					d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
				}
				var ring []net.Conn
				defer func() {
					for _, c := range ring {
						c.Close()
					}
				}()
				tick := time.NewTicker(interval)
				defer tick.Stop()
				for {
					select {
					case <-done:
						return
					case <-tick.C:
					}
					c, err := d.Dial("tcp", dst)
					if err != nil {
						continue
					}
					opened.Add(1)
					if len(ring) == 300 {
						ring[0].Close()
						ring = ring[1:]
					}
					ring = append(ring, c)
				}
			}()
		}
	}
	var once sync.Once
	return func() int64 {
		once.Do(func() { close(done); wg.Wait() })
		return opened.Load()
	}
}
