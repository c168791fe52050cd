package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sextant/naming"
)

func newTestMembership(t *testing.T, ft Transport, self string, members ...string) *Membership {
	t.Helper()
	cfg := testConfig()
	cfg.Self = self
	cfg.Members = members
	// Start is not called: the test drives rounds itself.
	m, err := New(cfg, ft, testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// newClockedMembership is newTestMembership on a clock the test moves.
func newClockedMembership(t *testing.T, ft Transport, self string, members ...string) (*Membership, *manualClock) {
	m := newTestMembership(t, ft, self, members...)
	clk := newManualClock()
	m.now, m.born = clk.Now, clk.Now()
	return m, clk
}

func TestNewRejectsMissingSelf(t *testing.T) {
	cfg := testConfig()
	cfg.Self = "10.0.0.9:8848"
	cfg.Members = []string{"10.0.0.1", "10.0.0.2"}
	if _, err := New(cfg, newFakeTransport(), nil); err == nil || !strings.Contains(err.Error(), "not in the member list") {
		t.Fatalf("error %v", err)
	}
	cfg.Self = "10.0.0.2" // default port makes it a member
	if _, err := New(cfg, newFakeTransport(), nil); err != nil {
		t.Fatalf("self with default port: %v", err)
	}
	bad := []func(*Config){
		func(c *Config) { c.Self = "" },
		func(c *Config) { c.File = "/x" },
		func(c *Config) { c.Members = nil },
		func(c *Config) { c.DownAfter = 0 },
		func(c *Config) { c.DownAfter = 1 },
		func(c *Config) { c.ReportInterval = 0 },
	}
	for i, f := range bad {
		c := cfg
		f(&c)
		if _, err := New(c, newFakeTransport(), nil); err == nil {
			t.Errorf("bad config %d accepted", i)
		}
	}
}

func TestMemberStates(t *testing.T) {
	ft := newFakeTransport()
	a, b, c := "10.0.0.1:8848", "10.0.0.2:8848", "10.0.0.3:8848"
	m, clk := newClockedMembership(t, ft, a, a, b, c)
	var calls atomic.Int32
	m.Watch(func() { calls.Add(1) })

	// Nobody has answered yet: only self is live.
	if got := m.Live(); !slices.Equal(got, []string{a}) {
		t.Fatalf("initial live %v", got)
	}
	ctx := context.Background()
	m.round(ctx)
	if got := m.Live(); !slices.Equal(got, []string{a, b, c}) {
		t.Fatalf("after a good round live %v", got)
	}
	if calls.Load() != 1 {
		t.Errorf("watchers called %d times, want 1", calls.Load())
	}

	ft.set(c, errors.New("timeout"))
	m.round(ctx)
	if s := stateOf(m, c); s != naming.MemberSuspicious {
		t.Fatalf("after one miss %s", s)
	}
	if !slices.Contains(m.Live(), c) {
		t.Fatal("suspicious member left the live set")
	}
	clk.Advance(m.cfg.ReportInterval)
	m.round(ctx)
	// Rounds that come quicker than the report interval (a live-set
	// change starts one at once) count misses but do not make a member
	// DOWN before DownTime has passed since it was last heard.
	m.round(ctx)
	if s := stateOf(m, c); s != naming.MemberSuspicious {
		t.Fatalf("after three quick misses %s, want SUSPICIOUS until DownTime has passed", s)
	}
	clk.Advance(m.cfg.DownTime() - m.cfg.ReportInterval)
	m.round(ctx)
	if s := stateOf(m, c); s != naming.MemberDown {
		t.Fatalf("after four misses over %v %s", m.cfg.DownTime(), s)
	}
	if got := m.Live(); !slices.Equal(got, []string{a, b}) {
		t.Fatalf("live %v", got)
	}
	if calls.Load() != 2 {
		t.Errorf("watchers called %d times, want 2", calls.Load())
	}

	// Their report reaching us brings them back even though ours still fail.
	if err := m.HandleReport(Report{From: c, Hash: 42}); err != nil {
		t.Fatal(err)
	}
	if s := stateOf(m, c); s != naming.MemberUp {
		t.Fatalf("after their report %s", s)
	}
	// Our own report succeeding does too.
	ft.set(c, fmt.Errorf("dial: %w", ErrRefused))
	m.round(ctx)
	if s := stateOf(m, c); s != naming.MemberDown {
		t.Fatalf("refused member is %s, want DOWN at once", s)
	}
	ft.set(c, nil)
	m.round(ctx)
	if s := stateOf(m, c); s != naming.MemberUp {
		t.Fatalf("after a good report %s", s)
	}

	if err := m.HandleReport(Report{From: "10.9.9.9:1", Hash: 1}); err == nil {
		t.Error("report from a stranger accepted")
	}
	if err := m.HandleReport(Report{From: a, Hash: 1}); err == nil {
		t.Error("report from self accepted")
	}
	ms := m.Members()
	if len(ms) != 3 || !ms[0].Self || ms[0].Address != a || ms[1].Address != b {
		t.Errorf("members %+v", ms)
	}
}

func TestHashFollowsLive(t *testing.T) {
	ft := newFakeTransport()
	a, b, c := "10.0.0.1:8848", "10.0.0.2:8848", "10.0.0.3:8848"
	m1 := newTestMembership(t, ft, a, a, b, c)
	m2 := newTestMembership(t, newFakeTransport(), b, a, b, c)
	// Different live sets: different hashes.
	if m1.Hash() == m2.Hash() {
		t.Fatal("views {a} and {b} share a hash")
	}
	m1.round(context.Background())
	m2.round(context.Background())
	if !slices.Equal(m1.Live(), m2.Live()) || m1.Hash() != m2.Hash() {
		t.Fatalf("same live set %v / %v, hashes %x / %x", m1.Live(), m2.Live(), m1.Hash(), m2.Hash())
	}
	ft.set(c, fmt.Errorf("x: %w", ErrRefused))
	m1.round(context.Background())
	if m1.Hash() == m2.Hash() {
		t.Fatal("views differ but hashes agree")
	}
	// A state change inside the live set (UP → SUSPICIOUS) keeps the hash.
	h := m2.Hash()
	m2t := newFakeTransport()
	m2.t = m2t
	m2t.set(c, errors.New("slow"))
	m2.round(context.Background())
	if stateOf(m2, c) != naming.MemberSuspicious || m2.Hash() != h {
		t.Fatalf("suspicious member changed the hash (state %s)", stateOf(m2, c))
	}
}

func TestStartRunsFirstRoundAndLoop(t *testing.T) {
	ft := newFakeTransport()
	a, b := "10.0.0.1:8848", "10.0.0.2:8848"
	cfg := testConfig()
	cfg.Self, cfg.Members = a, []string{a, b}
	m, err := New(cfg, ft, testLog())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(m.Live(), b) {
		t.Fatal("reachable member not live after Start")
	}
	if err := m.Start(context.Background()); err == nil {
		t.Error("second Start accepted")
	}
	ft.set(b, errors.New("gone"))
	waitFor(t, 2*time.Second, func() bool { return stateOf(m, b) == naming.MemberDown })
	m.Close()
	m.Close()
}

// A node stops being agreed once its last report a majority took is older
// than Lease, even when no round has come back since (its reports hang),
// and its lease is shorter than the time after which a peer counts it DOWN.
func TestAgreedLapsesWithoutAFreshMajority(t *testing.T) {
	ft := newFakeTransport()
	a, b, c := "10.0.0.1:8848", "10.0.0.2:8848", "10.0.0.3:8848"
	m, clk := newClockedMembership(t, ft, a, a, b, c)
	if !(m.cfg.Lease() > 0 && m.cfg.Lease() < m.cfg.DownTime()) {
		t.Fatalf("lease %v, down time %v", m.cfg.Lease(), m.cfg.DownTime())
	}
	m.round(context.Background())
	for _, p := range []string{b, c} {
		if err := m.HandleReport(Report{From: p, Hash: m.Hash(), Live: m.Live(), Reach: m.Live()}); err != nil {
			t.Fatal(err)
		}
	}
	if !m.Agreed() {
		t.Fatal("not agreed after a good round")
	}
	clk.Advance(m.cfg.Lease() - time.Millisecond)
	if !m.Agreed() {
		t.Fatal("lease ended early")
	}
	// Their reports still arrive, but none of ours is taken: a report
	// they send extends nothing, since they may not learn it arrived.
	for _, p := range []string{b, c} {
		if err := m.HandleReport(Report{From: p, Hash: m.Hash(), Live: m.Live(), Reach: m.Live()}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(2 * time.Millisecond)
	if m.Agreed() {
		t.Fatalf("still agreed %v after the last report a majority took", m.cfg.Lease()+time.Millisecond)
	}
	// One peer taking a report is a majority of three with this node.
	ft.set(c, errors.New("timeout"))
	m.round(context.Background())
	if !m.Agreed() {
		t.Fatal("a report b took did not renew the lease")
	}
}

// A node just started counts a member it has not reached DOWN at once, but
// judges without it only once DownTime has passed since its start: the
// member may hold a lease a report of this node's previous run granted.
func TestNewNodeJudgesWithoutAnUnreachedMemberOnlyAfterDownTime(t *testing.T) {
	ft := newFakeTransport()
	a, b, c := "10.0.0.1:8848", "10.0.0.2:8848", "10.0.0.3:8848"
	m, clk := newClockedMembership(t, ft, a, a, b, c)
	ft.set(c, errors.New("timeout"))
	good := func() {
		m.round(context.Background())
		ab := []string{a, b} // b does not reach c either
		if err := m.HandleReport(Report{From: b, Hash: hashOf(ab), Live: ab, Reach: ab}); err != nil {
			t.Fatal(err)
		}
	}
	for range m.cfg.DownAfter {
		good()
	}
	if !slices.Equal(m.Live(), []string{a, b}) {
		t.Fatalf("live %v", m.Live())
	}
	if m.Agreed() {
		t.Fatal("agreed without a member it never reached, right after its start")
	}
	clk.Advance(m.cfg.DownTime())
	good()
	if !m.Agreed() {
		t.Fatalf("not agreed %v after its start with a majority that agrees", m.cfg.DownTime())
	}
}

// A member that takes this node's reports but sends none (its outbound
// traffic cut) leaves the live set DownTime after the last of its reports
// this node took, on this node's clock, and is not listed as reached; its
// next report brings it back.
func TestMemberThatOnlyListensIsDown(t *testing.T) {
	ft := newFakeTransport()
	a, b, c := "10.0.0.1:8848", "10.0.0.2:8848", "10.0.0.3:8848"
	m, clk := newClockedMembership(t, ft, a, a, b, c)
	all := []string{a, b, c}
	report := func(from string, live []string) {
		if err := m.HandleReport(Report{From: from, Hash: hashOf(live), Live: live, Reach: live}); err != nil {
			t.Fatal(err)
		}
	}
	m.round(context.Background())
	report(b, all)
	report(c, all)
	if !slices.Equal(m.Live(), all) || !m.Agreed() {
		t.Fatalf("live %v, agreed %v after a good round", m.Live(), m.Agreed())
	}
	// c still takes every report of ours; only b's arrive.
	step := m.cfg.ReportInterval
	for at := step; at <= m.cfg.DownTime(); at += step {
		clk.Advance(step)
		m.round(context.Background())
		report(b, all)
		if !slices.Contains(m.Live(), c) {
			t.Fatalf("c left the live set %v after its last report, before DownTime (%v)", at, m.cfg.DownTime())
		}
	}
	clk.Advance(step)
	m.round(context.Background())
	ab := []string{a, b}
	report(b, ab) // b does not hear c either
	if !slices.Equal(m.Live(), ab) {
		t.Fatalf("live %v past DownTime without a report from c", m.Live())
	}
	m.mu.Lock()
	reach := m.reachLocked()
	m.mu.Unlock()
	if slices.Contains(reach, c) {
		t.Fatal("c is listed as reached")
	}
	if st := stateOf(m, c); st != naming.MemberDown {
		t.Fatalf("c shown %s", st)
	}
	if !m.Agreed() {
		t.Fatal("a and b, agreeing on the live set without c, are not agreed")
	}
	report(c, all)
	m.round(context.Background())
	if !slices.Contains(m.Live(), c) {
		t.Fatalf("c's report did not bring it back: %v", m.Live())
	}
}
