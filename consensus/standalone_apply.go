package consensus

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// Apply validates op, enforces the server mode (Admit) and applies it. An
// ephemeral op returns once the catalog has it. A CP op returns once its
// record is in the log and, with Sync, on disk; readers see it from then
// on, never before. On error nothing changed,
// with one exception: when a registration needed its service created first
// (MIXED), the creation stays even if the registration then fails.
//
// Apply waits for no one but the lock that orders CP writes and the fsync of
// the log; ctx is checked before the op is taken.
func (s *Standalone) Apply(ctx context.Context, op naming.Op) error {
	if s.closed.Load() {
		return errClosed()
	}
	if err := ctx.Err(); err != nil {
		return naming.Errorf(naming.ErrUnavailable, "request abandoned: %v", err)
	}
	if op.Time == 0 {
		op.Time = s.now().UnixMilli()
	}
	if op.Kind == naming.OpBeat {
		// Beats are the hot path: straight to the catalog, without the
		// lock, unless the beat must create its service. The catalog
		// validates the op itself, so it is not validated twice.
		cur, _ := s.cat.View(op.Service)
		adm, err := Admit(s.cat.Switches(), op, cur)
		if err != nil {
			return err
		}
		if err := CheckLimits(s.cfg.Limits, adm.Op, cur, s.cat); err != nil {
			return err
		}
		if adm.Create == nil {
			return s.cat.Apply(adm.Op)
		}
	}
	if err := op.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	end, err := s.applyLocked(op)
	s.mu.Unlock()
	if end > 0 {
		if derr := s.waitDurable(end); derr != nil {
			return derr
		}
		s.maybeCompact()
	}
	return err
}

func errClosed() error { return naming.Errorf(naming.ErrUnavailable, "server is shutting down") }

// applyLocked admits and applies op. It returns the logical log position the
// caller must wait for before acknowledging (0 when nothing was logged).
// A CP op is decided against s.cp and logged here; it reaches the catalog
// readers see once its record is on disk (publishLocked). The caller holds
// s.mu.
func (s *Standalone) applyLocked(op naming.Op) (uint64, error) {
	if s.shut {
		return 0, errClosed()
	}
	var cur *naming.Service
	if hasService(op.Kind) {
		cur, _ = s.cat.View(op.Service)
	}
	adm, err := Admit(s.cp.Switches(), op, cur)
	if err != nil {
		return 0, err
	}
	if err := CheckLimits(s.cfg.Limits, adm.Op, cur, s.cat); err != nil {
		return 0, err
	}
	if adm.Op.Kind == naming.OpDeregister {
		view := cur
		if !adm.Op.IsEphemeral() {
			view, _ = s.cp.View(op.Service) // a registration may still be on its way to disk
		}
		if view == nil || view.Find(adm.Op.Target) == nil {
			return 0, nil // absent is not an error, and there is nothing to store
		}
	}
	var end uint64
	if adm.Create != nil {
		if sv, ok := s.cp.View(op.Service); !ok || !sv.Durable {
			if end, err = s.commitLocked(*adm.Create); err != nil {
				return 0, err
			}
		}
	}
	if adm.Op.IsEphemeral() {
		return end, s.cat.Apply(adm.Op)
	}
	e, err := s.commitLocked(adm.Op)
	if e > 0 {
		end = e
	}
	return end, err
}

// hasService reports whether ops of kind concern one service.
func hasService(k naming.OpKind) bool {
	if k.IsAuth() {
		return false
	}
	switch k {
	case naming.OpCreateNamespace, naming.OpUpdateNamespace, naming.OpDeleteNamespace, naming.OpSetSwitch:
		return false
	}
	return true
}

// commitLocked decides a CP op against s.cp, the CP state with every
// logged record, and appends its record. The op joins s.pending and reaches
// the catalog readers see once its record is on disk. The caller holds s.mu.
//
// A service that exists only in memory (created by an ephemeral
// registration in AP mode) is not durable and not in the log; CP ops treat
// it as absent (naming/durable.go), so replay, which never sees it, gives
// the same persistent state, and so does s.cp, which holds no ephemeral data.
func (s *Standalone) commitLocked(op naming.Op) (uint64, error) {
	if s.failed != nil {
		return 0, naming.Errorf(naming.ErrUnavailable, "data directory failed, restart needed: %v", s.failed)
	}
	body, err := json.Marshal(op)
	if err != nil {
		return 0, naming.Errorf(naming.ErrInvalid, "op cannot be stored: %v", err)
	}
	if err := s.cp.Apply(op); err != nil {
		return 0, err
	}
	// s.cp holds the op from here on: it must reach the log, or be undone.
	buf := appendRecord(s.buf[:0], s.wal.tab, s.seq+1, body)
	if len(buf) <= 1<<16 {
		s.buf = buf
	}
	if err := s.wal.append(buf); err != nil {
		return 0, s.failLocked(fmt.Errorf("append to log: %w", err), s.wal.size)
	}
	s.seq++
	s.written += uint64(len(buf))
	s.records++
	s.pending = append(s.pending, pendingOp{end: s.written, op: op})
	if !s.cfg.Sync {
		s.publishLocked(s.written)
	}
	return s.written, nil
}

// pendingOp is a CP op whose record is logged and not yet known to be on
// disk; end is the logical log position after its record.
type pendingOp struct {
	end uint64
	op  naming.Op
}

// publishLocked applies to the catalog, in log order, the pending ops whose
// records end at or before upto: they are on disk. The caller holds s.mu.
func (s *Standalone) publishLocked(upto uint64) {
	i := 0
	for ; i < len(s.pending) && s.pending[i].end <= upto; i++ {
		if err := s.cat.Apply(s.pending[i].op); err != nil {
			// s.cp accepted it over the same CP state: a bug, not bad input.
			s.log.WithError(err).WithField("op", s.pending[i].op.Kind.String()).Error("a stored op was refused by the catalog")
		}
		s.pending[i] = pendingOp{}
	}
	s.pending = s.pending[i:]
	if len(s.pending) == 0 {
		s.pending = s.pending[:0:0]
	}
}

// markEvery is how far the synced offset in the log header may lag what was
// synced. Damage in that stretch, which a crash cannot cause (it was
// synced), is cut off at start-up rather than refused.
const markEvery = 64 << 10

// waitDurable returns once the log is on disk up to the logical position
// end. One caller syncs for everyone waiting (group commit).
func (s *Standalone) waitDurable(end uint64) error {
	if !s.cfg.Sync {
		return nil
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.synced >= end {
		return nil
	}
	if s.lost != nil {
		return naming.Errorf(naming.ErrUnavailable, "write not stored: %v", s.lost)
	}
	s.mu.Lock()
	target, shut := s.written, s.shut
	prev := s.fileOffset(s.synced)
	s.mu.Unlock()
	if shut {
		return naming.Errorf(naming.ErrUnavailable, "server shut down before the write was stored")
	}
	// The header names what an earlier fsync covered; this fsync stores it
	// together with the new records. Rewriting it costs a second page per
	// fsync, so it moves in steps of markEvery: a lower bound is enough to
	// tell the unsynced tail from acknowledged records.
	var err error
	if prev-s.wal.synced >= markEvery {
		err = s.wal.markSynced(prev)
	}
	if err == nil {
		err = s.wal.sync()
	}
	if err != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.lost = fmt.Errorf("sync log: %w", err)
		return s.failLocked(s.lost, s.fileOffset(s.synced))
	}
	s.mu.Lock()
	s.publishLocked(target)
	s.mu.Unlock()
	s.synced = target
	return nil
}

// failLocked puts the writer in the failed state after the log could not be
// written or synced: CP ops are refused from now on, the log is cut back to
// keep (its last trusted byte), the ops not stored are dropped (readers
// never saw them), and the CP state is reloaded from disk. The caller holds
// s.mu; it returns the error for the op that hit the failure.
func (s *Standalone) failLocked(cause error, keep int64) error {
	s.failed = cause
	msg := cause.Error()
	s.broken.Store(&msg)
	s.log.WithError(cause).Error("the data directory failed: persistent writes are refused until restart")
	if keep < s.wal.size {
		s.written -= uint64(s.wal.size - keep)
		if err := s.wal.truncate(keep); err != nil {
			s.log.WithError(err).Error("could not cut the log back to its last stored record")
		}
		s.wal.size = keep // nothing is appended after a failure
	}
	s.publishLocked(s.synced) // stored before the failure
	s.pending = nil
	if err := s.reloadLocked(keep); err != nil {
		s.log.WithError(err).Error("could not reload the stored state; the catalog may show writes that were not stored")
	}
	return naming.Errorf(naming.ErrUnavailable, "write not stored: %v", cause)
}

// reloadLocked rebuilds the CP state from the snapshot and the first size
// bytes of the log, and gives it to the catalog; services keep their
// ephemeral instances (RestorePersistent). The caller holds s.mu.
func (s *Standalone) reloadLocked(size int64) error {
	fresh := naming.NewCatalog()
	if _, err := s.load(fresh, s.wal, size); err != nil {
		return err
	}
	s.cp = fresh
	s.cat.RestorePersistent(fresh.PersistentState(), s.now().UnixMilli())
	return nil
}

// fileOffset maps a logical log position to an offset in the log file: the
// file's end is the logical position s.written. The caller holds s.mu.
func (s *Standalone) fileOffset(pos uint64) int64 {
	return max(0, s.wal.size-int64(s.written-pos))
}

// maybeCompact writes a snapshot and empties the log once it holds
// SnapshotEvery records. CP writes wait while it runs; beats do not.
func (s *Standalone) maybeCompact() {
	s.mu.Lock()
	due := s.records >= s.compactAt && s.failed == nil && !s.shut
	s.mu.Unlock()
	if !due {
		return
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.records < s.compactAt || s.failed != nil || s.shut {
		return // someone else did it
	}
	if err := s.compactLocked(); err != nil {
		s.compactAt = s.records + s.cfg.SnapshotEvery
		s.log.WithError(err).Warn("compaction failed; the log keeps every record and compaction is retried later")
		return
	}
	s.compactAt = s.cfg.SnapshotEvery
}

// compactLocked snapshots the CP state as of record s.seq, then cuts the
// log. A crash between the two leaves records the snapshot already holds;
// loading skips them by sequence number. The caller holds syncMu and mu.
func (s *Standalone) compactLocked() error {
	st := s.cp.PersistentState()
	if err := writeSnapshot(s.dir, snapshotFile{Version: snapshotVersion, Seq: s.seq, State: st}); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	// Every record written so far is now in a synced snapshot.
	s.synced = s.written
	s.publishLocked(s.written)
	records := s.records
	s.records = 0
	if err := s.wal.reset(); err != nil {
		return fmt.Errorf("snapshot written, but the log could not be cut (it is skipped on load): %w", err)
	}
	s.log.WithFields(logrus.Fields{"seq": s.seq, "records": records, "services": len(st.Services)}).Info("log compacted into a snapshot")
	return nil
}
