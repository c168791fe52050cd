package distro

import (
	"context"
	"errors"
	"sync"
	"time"

	"sextant/naming"
)

// Load fills the catalog from the live peers before the node reports
// ready. It asks every live peer for a snapshot at once and merges all that
// answer; if none answers it asks again every RetryInterval until
// LoadTimeout. A node becomes ready with what it has when it has no live
// peer, when every peer answered that it is loading too (the whole cluster
// is starting, so nobody has data), or when LoadTimeout passes; verify
// rounds then repair any gap. Load returns an error only when ctx ends
// first, and the node then stays not ready.
func (e *Engine) Load(ctx context.Context) error {
	if e.ready.Load() {
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, e.cfg.LoadTimeout)
	defer cancel()
	for {
		peers := e.livePeers()
		if len(peers) == 0 {
			e.log.Info("no live peer: starting with local data")
			break
		}
		n, loading := e.loadFrom(lctx, peers)
		if n > 0 {
			e.log.WithField("peers", n).Info("loaded data from peers")
			break
		}
		if loading == len(peers) {
			e.log.Info("every peer is loading too: starting with local data")
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if lctx.Err() != nil || !e.sleepCtx(lctx, e.cfg.RetryInterval) {
			if err := ctx.Err(); err != nil {
				return err
			}
			e.log.WithField("timeout", e.cfg.LoadTimeout).Warn("no peer answered: starting with local data")
			break
		}
	}
	e.ready.Store(true)
	e.kickVerify()
	return nil
}

// loadFrom merges the snapshots of every peer that answers; it returns how
// many did, and how many answered that they are loading.
func (e *Engine) loadFrom(ctx context.Context, peers []string) (answered, loading int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs, err := e.t.Snapshot(ctx, p)
			if errors.Is(err, ErrLoading) {
				mu.Lock()
				loading++
				mu.Unlock()
				return
			}
			if err != nil {
				e.log.WithError(err).WithField("peer", p).Debug("snapshot failed")
				return
			}
			for _, r := range recs {
				if _, err := e.mergeFrom(r, false, "snapshot of "+p); err != nil {
					e.log.WithError(err).WithField("peer", p).WithField("service", r.Key.String()).Warn("loaded record refused")
					continue
				}
				e.stats.loaded.Add(1)
			}
			mu.Lock()
			answered++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return answered, loading
}

// sleepCtx waits d, or until ctx ends or the engine closes; it reports
// whether the whole pause passed.
func (e *Engine) sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-e.ctx.Done():
	}
	return false
}

// Ready returns nil once Load has finished, and an error of kind
// naming.ErrUnavailable before.
func (e *Engine) Ready() error {
	if e.ready.Load() {
		return nil
	}
	return naming.Errorf(naming.ErrUnavailable, "distro: loading data from peers")
}

// All returns every record this node holds, for a starting peer. A node
// that has not finished its own load refuses, so the peer asks another.
func (e *Engine) All(ctx context.Context, from string) ([]Record, error) {
	if !e.ready.Load() {
		return nil, &loadingError{msg: e.self + " is loading, ask another member"}
	}
	keys := map[naming.ServiceKey]bool{}
	for _, s := range e.cat.Views("", "") {
		if sumOf(s) != "" {
			keys[s.Key] = true
		}
	}
	for _, k := range e.tombs.keys() {
		keys[k] = true
	}
	out := make([]Record, 0, len(keys))
	for k := range keys {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r := e.snapshot(k); !r.Empty() {
			out = append(out, r)
		}
	}
	return out, nil
}
