package distro

import (
	"context"
	"slices"
	"sync"
	"time"

	"sextant/naming"
)

// verifyLoop runs a verify round every VerifyInterval, and SyncDelay after
// the member view changes (so a healed partition converges without waiting
// a whole interval).
func (e *Engine) verifyLoop() {
	defer e.wg.Done()
	tick := time.NewTicker(e.cfg.VerifyInterval)
	defer tick.Stop()
	early := time.NewTimer(time.Hour)
	early.Stop()
	defer early.Stop()
	soon := max(e.cfg.SyncDelay, time.Millisecond)
	retries := 0
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-e.kick:
			retries = 0
			early.Reset(soon)
		case <-early.C:
			// While member views still differ, peers refuse the round; try
			// again soon, a few times, then leave it to the ticker.
			if e.verifyRound() && retries < maxEarlyVerifies {
				retries++
				early.Reset(soon)
			}
		case <-tick.C:
			e.verifyRound()
		}
	}
}

// maxEarlyVerifies bounds the quick repeats of a refused early round.
const maxEarlyVerifies = 5

// verifyRound sends the checksums of the services this node owns to every
// live peer, one message per peer. A peer answers with the keys whose copy
// differs or that it holds unlisted; this node fetches those records,
// merges them (so writes accepted elsewhere during a partition reach the
// owner), and sends its merged records back to that peer. It reports whether a
// peer refused the round for a member-view mismatch, so it is worth
// repeating soon.
func (e *Engine) verifyRound() (retry bool) {
	if !e.ready.Load() {
		return false
	}
	e.stats.verifyRounds.Add(1)
	e.tombs.prune(e.nowMs() - e.cfg.TombstoneTTL.Milliseconds())
	e.heldStamps.prune(e.nowMs() - e.cfg.TombstoneTTL.Milliseconds())
	e.deregs.prune(e.nowMs() - max(staleBeatWindow, deregistrationHold).Milliseconds())
	if n := e.tombs.capTotal(MaxTombstones); n > 0 {
		e.log.WithField("forgotten", n).Warn("more than the cap of tombstones: the oldest were forgotten")
	}
	e.pruneMarks()
	e.forgetPeers(e.table())
	sums := e.ownedSums()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range e.livePeers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.verifyPeer(p, sums); err != nil {
				e.stats.verifyFailed.Add(1)
				e.log.WithError(err).WithField("peer", p).Debug("verify failed")
				mu.Lock()
				retry = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return retry
}

func (e *Engine) verifyPeer(peer string, sums map[naming.ServiceKey]string) error {
	hash := e.view.Hash()
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.SyncTimeout)
	diff, err := e.t.Verify(ctx, peer, hash, sums)
	cancel()
	if err == nil && len(diff) == 0 {
		e.verified(peer)
	}
	if err != nil || len(diff) == 0 {
		return err
	}
	e.stats.verifyMismatch.Add(uint64(len(diff)))
	if e.afterGap(peer) {
		// The first exchange after a gap (this node or the peer was cut
		// off, paused or restarted): either copy may be the stale one,
		// and queued changes say nothing about what the other side
		// missed, so everything that differs is repaired now.
	} else if diff = e.skipQueued(peer, sums, diff); len(diff) == 0 {
		return nil
	}
	for _, chunk := range e.fetchChunks(diff) {
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.SyncTimeout)
		recs, err := e.t.Fetch(ctx, peer, hash, chunk)
		cancel()
		if err != nil {
			return err
		}
		for _, r := range recs {
			if !slices.Contains(chunk, r.Key) || !e.owns(r.Key) {
				continue
			}
			if _, err := e.mergeFrom(r, true, "fetch from "+peer); err != nil {
				e.log.WithError(err).WithField("peer", peer).WithField("service", r.Key.String()).Warn("fetched record refused")
				continue
			}
			e.stats.repaired.Add(1)
		}
		// Send the merged records back at once, apart from the sync queue
		// (which may be pausing after failures); if that fails, the queue
		// retries them.
		mine := make([]Record, 0, len(chunk))
		for _, k := range chunk {
			mine = append(mine, e.snapshot(k))
		}
		if err := e.sendRecords(peer, hash, mine); err != nil {
			e.enqueueFull(peer, chunk)
			return err
		}
		e.stats.syncOK.Add(1)
		e.stats.syncRecords.Add(uint64(len(mine)))
	}
	return nil
}

// skipQueued drops from diff the services whose changes wait to be sent to
// peer: while writes flow, a copy differs only because the sync is on its
// way, and repairing it would send whole records for nothing. A service is
// left out for at most QueuedGrace from the first round that left it out,
// so a copy that differs for another reason is repaired even under
// constant writes. Services the owner did not list are never left out (the
// peer would drop them).
func (e *Engine) skipQueued(peer string, sums map[naming.ServiceKey]string, diff []naming.ServiceKey) []naming.ServiceKey {
	now := e.nowMs()
	grace := e.cfg.QueuedGrace.Milliseconds()
	e.vmu.Lock()
	defer e.vmu.Unlock()
	prev := e.skips[peer]
	next := map[naming.ServiceKey]int64{}
	out := diff[:0]
	for _, k := range diff {
		first, seen := prev[k]
		if !seen {
			first = now
		}
		if _, listed := sums[k]; listed && now-first < grace && e.pending(peer, k) {
			next[k] = first
			continue
		}
		out = append(out, k)
	}
	e.skips[peer] = next
	return out
}

// ownedSums returns the checksum of every service this node owns and holds
// data for (ephemeral instances or tombstones).
func (e *Engine) ownedSums() map[naming.ServiceKey]string {
	sums := map[naming.ServiceKey]string{}
	for _, s := range e.cat.Views("", "") {
		if sum := sumOf(s); sum != "" && e.owns(s.Key) {
			sums[s.Key] = sum
		}
	}
	for _, k := range e.tombs.keys() {
		if _, ok := sums[k]; !ok && e.owns(k) {
			s, _ := e.cat.View(k)
			sums[k] = sumOf(s)
		}
	}
	return sums
}

// OnVerify compares the owner's checksums with the local copies. It
// answers with the keys whose copy differs, and with keys the sender owns
// that this node holds but the sender did not list (the owner then fetches
// them, so no write is lost). A key left unlisted for more than
// OrphanGrace rounds in a row is dropped here.
func (e *Engine) OnVerify(ctx context.Context, from string, hash uint64, sums map[naming.ServiceKey]string) ([]naming.ServiceKey, error) {
	if err := e.checkHash(from, hash); err != nil {
		return nil, err
	}
	t := e.table()
	var diff []naming.ServiceKey
	defer func() { e.pushAfterAbsence(from, diff) }()
	for k, sum := range sums {
		if t.owner(k) != from {
			continue // not the sender's to judge
		}
		s, _ := e.cat.View(k)
		if sumOf(s) != sum {
			diff = append(diff, k)
		}
	}
	unlisted := map[naming.ServiceKey]bool{}
	for _, s := range e.cat.Views("", "") {
		k := s.Key
		if _, listed := sums[k]; listed || sumOf(s) == "" || t.owner(k) != from {
			continue
		}
		unlisted[k] = true
	}
	var drop []naming.ServiceKey
	e.omu.Lock()
	for k := range e.orphans {
		if !unlisted[k] && t.owner(k) == from {
			delete(e.orphans, k)
		}
	}
	for k := range unlisted {
		// A round counts towards dropping only when the owner fetched the
		// copy since the last one and still does not list it: while its
		// fetches fail, the copy may be the only one of its data.
		if e.fetched[k] {
			e.orphans[k]++
		} else if _, ok := e.orphans[k]; !ok {
			e.orphans[k] = 0 // known: the owner's fetch of it will count
		}
		delete(e.fetched, k)
		if e.orphans[k] > e.cfg.OrphanGrace {
			delete(e.orphans, k)
			drop = append(drop, k)
			continue
		}
		diff = append(diff, k)
	}
	e.omu.Unlock()
	for _, k := range drop {
		if t.owner(k) == e.self {
			continue
		}
		if err := e.dropLocal(k); err != nil {
			e.log.WithError(err).WithField("service", k.String()).Warn("orphaned copy not dropped")
			continue
		}
		e.stats.orphansRemoved.Add(1)
		e.log.WithField("service", k.String()).WithField("owner", from).Info("dropped a copy its owner never listed")
	}
	slices.SortFunc(diff, compareServiceKey)
	return diff, nil
}

// MaxFetchKeys bounds the keys one Records call may ask for.
const MaxFetchKeys = 100000

// Records returns this node's records of keys.
func (e *Engine) Records(ctx context.Context, from string, hash uint64, keys []naming.ServiceKey) ([]Record, error) {
	if err := e.checkHash(from, hash); err != nil {
		return nil, err
	}
	if len(keys) > MaxFetchKeys {
		return nil, naming.Errorf(naming.ErrTooLarge, "fetch of %d services, at most %d are allowed", len(keys), MaxFetchKeys)
	}
	out := make([]Record, 0, len(keys))
	t := e.table()
	e.omu.Lock()
	for _, k := range keys {
		if _, held := e.orphans[k]; held && t.owner(k) == from {
			e.fetched[k] = true
		}
	}
	e.omu.Unlock()
	for _, k := range keys {
		out = append(out, e.snapshot(k))
	}
	return out, nil
}

// pruneMarks forgets the beat marks of instances no longer held.
func (e *Engine) pruneMarks() {
	for _, k := range e.marks.keys() {
		mu := e.lockFor(k)
		mu.Lock()
		s, _ := e.cat.View(k)
		e.marks.forget(k, func(ik naming.InstanceKey) bool { return ephemeralAt(s, ik) != nil })
		mu.Unlock()
	}
}

// fetchChunks splits the keys verify fetches into messages of at most
// MaxBatch services and, by the sizes of the local copies (at least one
// entry each), about MaxSyncEntries instances and tombstones, so a large
// service does not make a fetch that cannot finish within SyncTimeout; a
// service larger than that goes alone.
func (e *Engine) fetchChunks(keys []naming.ServiceKey) [][]naming.ServiceKey {
	var out [][]naming.ServiceKey
	var cur []naming.ServiceKey
	entries := 0
	for _, k := range keys {
		size := 1 + len(e.tombs.list(k))
		if s, ok := e.cat.View(k); ok {
			size += s.Len()
		}
		if len(cur) > 0 && (len(cur) == e.cfg.MaxBatch || entries+size > MaxSyncEntries) {
			out = append(out, cur)
			cur, entries = nil, 0
		}
		cur = append(cur, k)
		entries += size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// verified records a verify exchange with peer that succeeded now.
func (e *Engine) verified(peer string) {
	e.vmu.Lock()
	e.lastVerify[peer] = e.nowMs()
	e.vmu.Unlock()
}

// afterGap records a successful exchange with peer and reports whether
// the previous one was more than three verify intervals ago (or never).
func (e *Engine) afterGap(peer string) bool {
	now := e.nowMs()
	e.vmu.Lock()
	defer e.vmu.Unlock()
	last, ok := e.lastVerify[peer]
	e.lastVerify[peer] = now
	return !ok || now-last > 3*e.cfg.VerifyInterval.Milliseconds()
}

// noteAbsent records, at a view change to live, the peers that left the
// view. Writes may have been applied on either side meanwhile by a node
// that owned the service only in its own view (a node cut off owns
// everything), so neither side's queued changes say what the other
// missed: the next verify exchange with such a peer repairs every copy
// that differs (its lastVerify is forgotten, see afterGap), and when the
// peer verifies here next, this node sends it its own copies of what
// differs (pushAfterAbsence), since only this node may hold the newer
// version, a deregistration it acknowledged while cut off, say.
func (e *Engine) noteAbsent(live []string) {
	e.vmu.Lock()
	defer e.vmu.Unlock()
	for _, p := range e.wasLive {
		if p == e.self {
			continue
		}
		if _, ok := slices.BinarySearch(live, p); !ok {
			delete(e.lastVerify, p)
			delete(e.skips, p)
			e.returned[p] = true
		}
	}
	e.wasLive = live
}

// pushAfterAbsence queues this node's whole records of diff for from, the
// owner, when this is its first verify round here since it left the view:
// the owner merges them (the newest version per instance wins) and syncs
// onward what changed.
func (e *Engine) pushAfterAbsence(from string, diff []naming.ServiceKey) {
	e.vmu.Lock()
	back := e.returned[from]
	delete(e.returned, from)
	e.vmu.Unlock()
	if back && len(diff) > 0 {
		e.stats.pushedAfterAbsence.Add(uint64(len(diff)))
		e.log.WithField("owner", from).WithField("services", len(diff)).Info("copies that differ sent to an owner back in the view")
		e.enqueueFull(from, diff)
	}
}
