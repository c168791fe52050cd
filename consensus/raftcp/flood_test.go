package raftcp

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// flood opens connections to every target from every source, holding each
// open and idle until it has opened perRing newer ones, at one connection
// per interval per (source, target), until stop is called.
func flood(t *testing.T, sources, targets []string, interval time.Duration, perRing int) (stop func() int) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	opened := 0
	for _, src := range sources {
		for _, dst := range targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 200 * time.Millisecond}
				ring := make([]net.Conn, 0, perRing)
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
					mu.Lock()
					opened++
					mu.Unlock()
					if len(ring) == perRing {
						ring[0].Close()
						ring = append(ring[:0], ring[1:]...)
					}
					ring = append(ring, c)
				}
			}()
		}
	}
	return func() int {
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return opened
	}
}

// TestElectionUnderARaftPortFlood is the attack of issue 16 on an
// in-process cluster over authenticated TCP with the production timings:
// idle connections flood the followers' Raft ports, from a stranger's
// address and from the members' own, and the leader dies. A new leader
// must be elected within 5 s.
func TestElectionUnderARaftPortFlood(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3, tcp: true, mutate: func(cfg *Config) {
		d := DefaultConfig()
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = d.HeartbeatTimeout, d.ElectionTimeout, d.LeaderLeaseTimeout
		cfg.Secret = "the-cluster-secret"
		// Member i listens on 127.0.0.(i+1), so members have addresses
		// of their own.
		peers := append([]Peer(nil), cfg.Peers...)
		for j := range peers {
			_, port, _ := net.SplitHostPort(peers[j].RaftAddr)
			peers[j].RaftAddr = net.JoinHostPort("127.0.0."+string(rune('1'+j)), port)
			if peers[j].ID == cfg.Self.ID {
				cfg.Self = peers[j]
			}
		}
		cfg.Peers = peers
	}})
	c.mustApply(regOp(1))
	leader := c.leader(10 * time.Second)
	var targets, srcs []string
	for _, f := range c.followers(leader) {
		targets = append(targets, c.members[f].cfg.Self.RaftAddr)
		host, _, _ := net.SplitHostPort(c.members[f].cfg.Self.RaftAddr)
		srcs = append(srcs, host)
	}
	srcs = append(srcs, "127.0.0.99")
	// 3 sources × 2 targets, one connection each per 8 ms: 750/s.
	stop := flood(t, srcs, targets, 8*time.Millisecond, 300)
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	time.Sleep(time.Second) // the flood fills the handshake slots first
	start := time.Now()
	c.stop(leader)
	next := -1
	deadline := start.Add(15 * time.Second)
	for next < 0 && time.Now().Before(deadline) {
		for _, f := range c.followers(leader) {
			if n, _, up := c.get(f); up && n.IsLeader() {
				next = f
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	opened := stop()
	stopped = true
	t.Logf("flood: %d connections opened (%.0f/s); new leader after %s", opened, float64(opened)/time.Since(start.Add(-time.Second)).Seconds(), took.Round(time.Millisecond))
	if next < 0 || took > 5*time.Second {
		t.Fatalf("no new leader within 5 s of the leader's death under the flood (took %s, leader %d)", took, next)
	}
	if err := c.applyAnywhere(5*time.Second, regOp(2)); err != nil && !strings.Contains(err.Error(), "exist") {
		t.Fatalf("write after the election: %v", err)
	}
}
