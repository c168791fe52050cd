package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"sextant/naming"
)

// Start runs a first report round (bounded by ReportTimeout and ctx), so
// that reachable members are UP when Start returns, then reports every
// ReportInterval and polls File until Close. Calling Start twice is an error.
func (m *Membership) Start(ctx context.Context) error {
	m.life.Lock()
	defer m.life.Unlock()
	if m.started {
		return errors.New("cluster: already started")
	}
	select {
	case <-m.stop:
		return errors.New("cluster: closed")
	default:
	}
	m.started = true
	m.round(ctx)
	m.wg.Add(1)
	go m.reportLoop()
	if m.cfg.File != "" {
		m.wg.Add(1)
		go m.pollLoop()
	}
	return nil
}

// Close stops reporting. It is idempotent.
func (m *Membership) Close() error {
	m.closeOnce.Do(func() { close(m.stop) })
	m.wg.Wait()
	return nil
}

func (m *Membership) reportLoop() {
	defer m.wg.Done()
	t := time.NewTicker(m.cfg.ReportInterval)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-m.stop
		cancel()
	}()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.round(ctx)
		case <-m.kick:
			// The live set changed: tell the others now, so that views
			// agree again within a round trip rather than an interval.
			m.round(ctx)
		}
	}
}

// round reports to every other member at once and records the outcomes.
func (m *Membership) round(ctx context.Context) {
	m.mu.Lock()
	targets := make([]string, 0, len(m.peers))
	for a := range m.peers {
		targets = append(targets, a)
	}
	m.mu.Unlock()
	m.mu.Lock()
	rep := Report{From: m.self, Hash: m.Hash(), Live: m.Live(), Reach: m.reachLocked()}
	m.mu.Unlock()
	if m.cfg.Progress != nil {
		rep.Progress = m.cfg.Progress()
	}
	sent := m.now()
	results := make([]result, len(targets))
	var wg sync.WaitGroup
	for i, a := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, m.cfg.ReportTimeout)
			err := m.t.Report(rctx, a, rep)
			cancel()
			switch {
			case err == nil:
				results[i] = reportOK
			case errors.Is(err, ErrRefused):
				results[i] = reportRefused
			default:
				results[i] = reportFailed
			}
			if err != nil {
				m.log.WithError(err).WithField("peer", a).Debug("report failed")
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return // shutting down: failures say nothing about the peers
	}
	m.record(targets, results, sent)
}

// HandleReport takes a report a member sent: it marks the sender UP and
// keeps what it said (its live set and hash, the members it reaches) for
// the live view and Agreed. Reports from addresses that are not
// configured members are refused.
func (m *Membership) HandleReport(r Report) error {
	from := r.From
	if from == m.self {
		return fmt.Errorf("cluster: report from self (%s)", from)
	}
	m.mu.Lock()
	p, ok := m.peers[from]
	if ok {
		p.heard, p.hash = m.now().UnixMilli(), r.Hash
		p.live, p.reach, p.progress = m.known(r.Live), m.known(r.Reach), r.Progress
	}
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("cluster: report from %q, which is not a member", from)
	}
	m.record([]string{from}, []result{reportOK}, time.Time{})
	return nil
}

// known keeps the configured members of a reported list (at most one
// entry per member, so a report cannot grow this node's memory). The
// caller holds m.mu.
func (m *Membership) known(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, 0, min(len(list), len(m.peers)+1))
	for _, a := range list {
		if _, ok := m.peers[a]; (ok || a == m.self) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// record applies outcomes to the members' states and tells watchers when
// the live set changed. sent is when the reports whose outcomes these are
// were sent; zero for a report a member sent us, which extends no lease
// (its sender may not learn that it arrived).
//
// Failures make a member DOWN only once Config.DownTime has passed since
// the last successful exchange with it: the count alone could be reached
// sooner by rounds the live set's changes start at once, and the lease of
// a member cut off (Agreed) is bounded by that time.
func (m *Membership) record(targets []string, results []result, sent time.Time) {
	at := m.now()
	now := at.UnixMilli()
	m.mu.Lock()
	for i, a := range targets {
		p, ok := m.peers[a]
		if !ok {
			continue // removed from the list meanwhile
		}
		before := p.state
		*p = next(*p, results[i], m.cfg.SuspectAfter, m.cfg.DownAfter)
		p.refused = results[i] == reportRefused
		if results[i] == reportOK {
			p.lastSeen, p.seen = now, at
			if !sent.IsZero() {
				p.okSent = sent
			}
		}
		if p.state == naming.MemberDown && results[i] == reportFailed && !p.seen.IsZero() && at.Sub(p.seen) < m.cfg.DownTime() {
			p.state = naming.MemberSuspicious
		}
		if p.state != before {
			m.log.WithField("peer", a).WithField("from", before).WithField("to", p.state).Info("member state changed")
		}
	}
	changed := m.refreshLocked()
	m.mu.Unlock()
	if changed {
		select {
		case m.kick <- struct{}{}:
		default:
		}
		m.notify()
	}
}
