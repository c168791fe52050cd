package healthcheck

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"sextant/naming"
)

// fakeProber answers from a table: an address fails with its reason while
// it is in fail; an address in block waits until its channel is closed.
type fakeProber struct {
	mu    sync.Mutex
	fail  map[string]string
	block map[string]chan struct{}
	calls map[string]int
}

func newFakeProber() *fakeProber {
	return &fakeProber{fail: map[string]string{}, block: map[string]chan struct{}{}, calls: map[string]int{}}
}

func (f *fakeProber) Probe(ctx context.Context, t Target) Result {
	f.mu.Lock()
	f.calls[t.Addr]++
	reason, failing := f.fail[t.Addr]
	wait := f.block[t.Addr]
	f.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
			return Result{Reason: "timeout after " + t.Timeout.String()}
		}
	}
	if failing {
		return Result{Reason: reason}
	}
	return Result{OK: true, Reason: "tcp connect ok"}
}

func (f *fakeProber) setFail(addr, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if reason == "" {
		delete(f.fail, addr)
		return
	}
	f.fail[addr] = reason
}

func (f *fakeProber) count(addr string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[addr]
}

// settled reports whether no probe is in flight: every target is queued.
func settled(c *PersistentChecker) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sched.queue.Len() == c.sched.size()
}

// rescanned reports whether the checker has read the whole catalog at now or later.
func rescanned(c *PersistentChecker, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.lastRescan.Before(now)
}

func fastProbeConfig() ProbeConfig {
	cfg := DefaultProbeConfig()
	cfg.Interval = 200 * time.Millisecond
	cfg.TCPTimeout = 100 * time.Millisecond
	cfg.HTTPTimeout = 100 * time.Millisecond
	cfg.Tick = 10 * time.Millisecond
	cfg.Rescan = 100 * time.Millisecond
	cfg.Workers = 4
	cfg.AllowInternal = true // the targets listen on loopback
	return cfg
}

func startChecker(t *testing.T, cfg ProbeConfig, src naming.Reader, w Writer, p Prober, clk Clock) *PersistentChecker {
	t.Helper()
	c, err := NewPersistentChecker(cfg, src, w, p, clk, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// registerAt adds a persistent instance at addr ("ip:port") to key.
func registerAt(t *testing.T, cat *naming.Catalog, key naming.ServiceKey, addr string) naming.InstanceKey {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	in := &naming.Instance{IP: host, Port: p, Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true}
	if err := cat.Apply(naming.Op{Kind: naming.OpRegister, Time: time.Now().UnixMilli(), Service: key, Instance: in}); err != nil {
		t.Fatal(err)
	}
	return in.Key()
}

// tcpTarget is a loopback TCP listener that the test closes and reopens on
// the same address.
type tcpTarget struct {
	t    *testing.T
	addr string
	ln   net.Listener
}

func newTCPTarget(t *testing.T, addr string) *tcpTarget {
	t.Helper()
	tt := &tcpTarget{t: t, addr: addr}
	tt.open()
	t.Cleanup(tt.close)
	return tt
}

func (tt *tcpTarget) open() {
	tt.t.Helper()
	var err error
	for i := 0; i < 50; i++ {
		if tt.ln, err = net.Listen("tcp", tt.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		tt.t.Fatalf("listen %s: %v", tt.addr, err)
	}
	tt.addr = tt.ln.Addr().String()
	ln := tt.ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

func (tt *tcpTarget) close() {
	if tt.ln != nil {
		tt.ln.Close()
		tt.ln = nil
	}
}

// serving reports whether DNS and healthyOnly lists would hand out the
// instance: the catalog's selection, filtered as the DNS front filters it.
func serving(cat *naming.Catalog, key naming.ServiceKey, ik naming.InstanceKey) bool {
	s, ok := cat.Service(key)
	if !ok {
		return false
	}
	sel := s.Select(nil, true)
	for _, in := range sel.Instances {
		if in.Key() == ik && in.Enabled && in.Weight > 0 && (in.Healthy || sel.Protected) {
			return true
		}
	}
	return false
}
