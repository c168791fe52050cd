package consensus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// Standalone is the naming.Writer of a node that runs alone: every service
// is its own, ephemeral ops go to the catalog, and CP ops are applied to the
// catalog and appended to a log in the data directory before they are
// acknowledged. See the package documentation for the ordering rules.
type Standalone struct {
	cfg StandaloneConfig
	cat *naming.Catalog
	log *logrus.Entry
	now func() time.Time
	dir string

	started atomic.Bool
	closed  atomic.Bool
	// broken holds the text of s.failed for Ready, which must not take a
	// lock: the HTTP front calls it on every request.
	broken atomic.Pointer[string]

	// syncMu serialises fsyncs, compaction and Close. Lock order: syncMu, then mu.
	syncMu sync.Mutex
	synced uint64 // logical log bytes known to be durable
	lost   error  // set when records after synced were dropped by a failed fsync
	once   sync.Once
	cerr   error

	// mu orders CP ops: the log's order is the catalog's order. It also
	// guards everything below.
	mu        sync.Mutex
	wal       *wal
	shut      bool   // Close has run
	seq       uint64 // sequence number of the last record
	written   uint64 // logical log bytes appended since open; the log file ends here
	records   int    // records in the log file
	compactAt int    // records at which to compact next
	failed    error  // set when the log cannot be trusted; CP ops are refused
	buf       []byte
	// cp is the CP state with every logged record applied; the catalog
	// readers see lags it by the records not yet on disk, which wait in
	// pending, in log order.
	cp      *naming.Catalog
	pending []pendingOp
}

// NewStandalone opens (creating if needed) the data directory, takes an
// exclusive lock on it, and loads its content into cat: the CP half of cat
// is replaced by the snapshot, then the log is replayed on top. A torn last
// record, left by a crash in the middle of a write, is cut off with a
// warning; damage before the end of the log is an error.
func NewStandalone(cfg StandaloneConfig, cat *naming.Catalog, log *logrus.Entry) (*Standalone, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cat == nil {
		return nil, errors.New("standalone: catalog is required")
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	s := &Standalone{cfg: cfg, cat: cat, log: log.WithField("component", "standalone"),
		now: cfg.Now, dir: cfg.DataDir, compactAt: cfg.SnapshotEvery}
	if s.now == nil {
		s.now = time.Now
	}
	if err := os.MkdirAll(s.dir, 0o750); err != nil {
		return nil, fmt.Errorf("standalone: data dir: %w", err)
	}
	w, err := openWAL(filepath.Join(s.dir, logName))
	if err != nil {
		return nil, fmt.Errorf("standalone: %w", err)
	}
	if err := s.open(w); err != nil {
		w.close()
		return nil, fmt.Errorf("standalone: %w", err)
	}
	return s, nil
}

// open locks the log, loads the snapshot and the log into s.cat and leaves
// the log ready for appends.
func (s *Standalone) open(w *wal) error {
	if err := lockFile(w.f); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.dir, snapshotTemp)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := syncDir(s.dir); err != nil { // the log file may be new
		return err
	}
	fi, err := w.f.Stat()
	if err != nil {
		return err
	}
	res, err := s.load(s.cat, w, fi.Size())
	if err != nil {
		return err
	}
	if res.torn != "" {
		s.log.WithFields(logrus.Fields{"file": w.f.Name(), "offset": res.good, "synced_offset": w.synced, "dropped_bytes": fi.Size() - res.good, "why": res.torn}).
			Warn("cutting off a torn record at the end of the log, left by a crash during a write; it was never acknowledged")
		if err := w.truncate(res.good); err != nil {
			return fmt.Errorf("cut torn tail: %w", err)
		}
	}
	w.size = res.good
	if err := w.markSynced(res.good); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	s.wal = w
	s.records = res.records
	s.written, s.synced = uint64(res.good), uint64(res.good)
	s.cp = naming.NewCatalog()
	s.cp.RestorePersistent(s.cat.PersistentState(), s.now().UnixMilli())
	s.log.WithFields(logrus.Fields{"dir": s.dir, "seq": s.seq, "log_records": res.records, "services": len(s.cat.Services("", ""))}).Info("data loaded")
	return nil
}

// load replaces the CP half of cat with the snapshot and replays the first
// size bytes of the log on top. It sets s.seq to the last sequence number.
func (s *Standalone) load(cat *naming.Catalog, w *wal, size int64) (scanResult, error) {
	snap, ok, err := readSnapshot(s.dir)
	if err != nil {
		return scanResult{}, err
	}
	st := naming.PersistentState{Switches: naming.DefaultSwitches()}
	if ok {
		st = snap.State
	}
	now := s.now().UnixMilli()
	cat.RestorePersistent(st, now)
	s.seq = snap.Seq
	res, err := scanLog(w.f, w.base, w.synced, size, w.tab, func(rec record) error {
		if rec.Seq <= snap.Seq {
			return nil // already in the snapshot: compaction stopped before cutting the log
		}
		if rec.Seq != s.seq+1 {
			return fmt.Errorf("%w: log resumes at record %d but the snapshot ends at %d", errCorrupt, rec.Seq, s.seq)
		}
		s.seq = rec.Seq
		if err := cat.Apply(rec.Op); err != nil {
			// Only ops the catalog accepted are logged, so this means the
			// catalog's rules changed between versions. Keep going: the rest
			// of the log is still good.
			s.log.WithError(err).WithFields(logrus.Fields{"seq": rec.Seq, "op": rec.Op.Kind.String(), "service": rec.Op.Service.String()}).
				Warn("a logged op no longer applies; skipped")
		}
		return nil
	})
	return res, err
}

// Start marks the writer ready. There is nothing to run in the background.
func (s *Standalone) Start(context.Context) error {
	if s.closed.Load() {
		return errors.New("standalone: closed")
	}
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("standalone: already started")
	}
	return nil
}

// Owns reports true: a lone node is responsible for every service.
func (s *Standalone) Owns(naming.ServiceKey) bool { return true }

// Members returns this node alone.
func (s *Standalone) Members() []naming.Member {
	state := naming.MemberUp
	switch {
	case s.Ready() == nil:
	case !s.started.Load() && !s.closed.Load():
		state = naming.MemberStarting
	default:
		state = naming.MemberDown
	}
	return []naming.Member{{Address: s.cfg.Self, State: state, Self: true, LastSeen: s.now().UnixMilli()}}
}

// Leader returns this node's address.
func (s *Standalone) Leader() string { return s.cfg.Self }

// Ready returns nil once started, until Close or until the log failed. It
// takes no lock.
func (s *Standalone) Ready() error {
	if s.closed.Load() {
		return naming.Errorf(naming.ErrUnavailable, "server is shutting down")
	}
	if !s.started.Load() {
		return naming.Errorf(naming.ErrUnavailable, "server is starting")
	}
	if msg := s.broken.Load(); msg != nil {
		return naming.Errorf(naming.ErrUnavailable, "data directory failed, restart needed: %s", *msg)
	}
	return nil
}

// Close syncs and closes the log and releases the data directory. Apply
// returns ErrUnavailable afterwards. It is safe to call more than once.
func (s *Standalone) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		s.syncMu.Lock()
		defer s.syncMu.Unlock()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.shut = true
		var errs []error
		if s.lost == nil {
			if err := s.wal.sync(); err != nil {
				errs = append(errs, fmt.Errorf("standalone: sync log: %w", err))
			} else {
				s.synced = s.written
				s.publishLocked(s.written)
				// A clean shutdown records the whole log as synced.
				if err := s.wal.markSynced(s.wal.size); err == nil {
					_ = s.wal.sync()
				}
			}
		}
		if err := s.wal.close(); err != nil {
			errs = append(errs, fmt.Errorf("standalone: close log: %w", err))
		}
		s.cerr = errors.Join(errs...)
	})
	return s.cerr
}
