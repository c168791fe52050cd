package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
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
	hash := m.Hash()
	results := make([]result, len(targets))
	var wg sync.WaitGroup
	for i, a := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, m.cfg.ReportTimeout)
			err := m.t.Report(rctx, a, m.self, hash)
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
	m.record(targets, results)
}

// HandleReport takes a report that member from sent: it marks from UP.
// Reports from addresses that are not configured members are refused. The
// sender's hash is not needed here: distro messages carry it and are
// refused while views differ.
func (m *Membership) HandleReport(from string, _ uint64) error {
	if from == m.self {
		return fmt.Errorf("cluster: report from self (%s)", from)
	}
	m.mu.Lock()
	_, ok := m.peers[from]
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("cluster: report from %q, which is not a member", from)
	}
	m.record([]string{from}, []result{reportOK})
	return nil
}

// record applies outcomes to the members' states and tells watchers when
// the live set changed.
func (m *Membership) record(targets []string, results []result) {
	now := m.now().UnixMilli()
	m.mu.Lock()
	for i, a := range targets {
		p, ok := m.peers[a]
		if !ok {
			continue // removed from the list meanwhile
		}
		before := p.state
		*p = next(*p, results[i], m.cfg.SuspectAfter, m.cfg.DownAfter)
		if results[i] == reportOK {
			p.lastSeen = now
		}
		if p.state != before {
			m.log.WithField("peer", a).WithField("from", before).WithField("to", p.state).Info("member state changed")
		}
	}
	changed := m.refreshLocked()
	m.mu.Unlock()
	if changed {
		m.notify()
	}
}
