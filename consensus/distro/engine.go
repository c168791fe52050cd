package distro

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/internal/life"
	"sextant/naming"
)

// lockStripes is the number of mutexes that serialise changes per service.
const lockStripes = 64

// Engine replicates the ephemeral instances of a catalog with its peers.
// It implements Handler for its transport, and Apply/Owns for the
// consensus router. All methods are safe for concurrent use.
type Engine struct {
	cfg  Config
	cat  Store
	view View
	t    Transport
	log  *logrus.Entry
	now  func() time.Time
	self string

	own   atomic.Pointer[ownerTable]
	seed  maphash.Seed
	locks [lockStripes]sync.Mutex
	tombs *instanceTimes
	marks *instanceTimes // beat marks of the instances held
	// deregs holds, on this node's clock, when this node as the
	// responsible node applied each recent client deregistration
	// (staleBeatWindow).
	deregs *instanceTimes
	// heldStamps holds, for each tombstone this node stamped past a
	// peer's later copy (holdsDeregistration), the deregistration's own
	// stamp: stale writes are judged against that, not the raised one.
	heldStamps *instanceTimes
	dirty      *dirtySet

	pmu   sync.Mutex
	peers map[string]*peerQueue

	fmu sync.Mutex
	fwd map[string]*forwardQueue

	omu     sync.Mutex
	orphans map[naming.ServiceKey]int  // unlisted rounds counted towards dropping, per held copy
	fetched map[naming.ServiceKey]bool // orphans the owner fetched since its last verify round

	vmu        sync.Mutex
	skips      map[string]map[naming.ServiceKey]int64 // per peer: when verify first left a service to the sync (Unix ms)
	lastVerify map[string]int64                       // per peer: the last verify exchange that succeeded (Unix ms)
	// wasLive is the live set of the last view change seen; returned holds
	// the peers that left it since their last verify round to this node
	// (see noteAbsent).
	wasLive  []string
	returned map[string]bool

	stats counters
	ready atomic.Bool
	// stalledUntil (Unix ns, monotonic-free) ends the window after a stall
	// in which Apply refuses writes; see stallLoop.
	stalledUntil atomic.Int64
	// lastTick is when the stall ticker last ran (monotonic ns since
	// born; 0 before it first runs), so a write can tell at once that the
	// process was stopped, before the ticker runs again.
	lastTick atomic.Int64
	born     time.Time
	kick     chan struct{} // asks the verify loop for an early round
	// peerWaitsLate is set when no peer confirmed a client's
	// deregistration within peerWaitBound, cleared by the next confirmed
	// sync (peerwait.go).
	peerWaitsLate atomic.Bool

	life        sync.Mutex
	state       life.State      // guarded by life
	ctx         context.Context // ends at Close
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	cancelWatch func()
}

// New builds an engine over cat. It does not touch the network until
// Start. A nil log discards log lines.
func New(cfg Config, cat Store, view View, t Transport, log *logrus.Entry) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cat == nil || view == nil || t == nil {
		return nil, errors.New("distro: catalog, view and transport are required")
	}
	if view.Self() == "" {
		return nil, errors.New("distro: the view has no self address")
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{
		cfg:        cfg,
		cat:        cat,
		view:       view,
		t:          t,
		log:        log.WithField("component", "distro"),
		now:        time.Now,
		self:       view.Self(),
		seed:       maphash.MakeSeed(),
		tombs:      newTombstones(),
		marks:      newMarks(),
		deregs:     newTombstones(),
		heldStamps: newTombstones(),
		dirty:      newDirtySet(),
		peers:      map[string]*peerQueue{},
		fwd:        map[string]*forwardQueue{},
		orphans:    map[naming.ServiceKey]int{},
		fetched:    map[naming.ServiceKey]bool{},
		skips:      map[string]map[naming.ServiceKey]int64{},
		lastVerify: map[string]int64{},
		returned:   map[string]bool{},
		kick:       make(chan struct{}, 1),
		born:       time.Now(),
		ctx:        ctx,
		cancel:     cancel,
	}
	if cfg.Now != nil {
		e.now = cfg.Now
	}
	e.table()
	return e, nil
}

// Start runs the sync and verify loops until Close. Call Load after Start
// to fill the catalog from the peers; until then the node applies writes
// but neither verifies nor serves snapshots. ctx bounds only the start.
func (e *Engine) Start(ctx context.Context) error {
	e.life.Lock()
	defer e.life.Unlock()
	if err := e.state.CanStart("distro"); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	e.state.Started()
	e.cancelWatch = e.view.Watch(e.viewChanged)
	e.noteAbsent(e.table().live) // the view at start, which later changes are compared with
	e.wg.Add(3)
	go e.syncLoop()
	go e.verifyLoop()
	go e.stallLoop()
	return nil
}

// Close stops the loops and waits for them. It is idempotent.
func (e *Engine) Close() error {
	e.life.Lock()
	if first, _ := e.state.End(); !first {
		e.life.Unlock()
		return nil
	}
	if e.cancelWatch != nil {
		e.cancelWatch()
	}
	e.cancel()
	e.life.Unlock()
	e.wg.Wait()
	return nil
}

// viewChanged runs on the membership's goroutine: it must not block.
func (e *Engine) viewChanged() {
	e.noteAbsent(e.table().live)
	e.reclaim()
	e.kickVerify()
}

func (e *Engine) kickVerify() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// goLoop starts a goroutine tied to the engine's lifetime, unless closed.
func (e *Engine) goLoop(fn func()) bool {
	e.life.Lock()
	defer e.life.Unlock()
	if e.state.Closed() {
		return false
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		fn()
	}()
	return true
}

func (e *Engine) nowMs() int64 { return e.now().UnixMilli() }

// lockFor returns the mutex that serialises changes to key.
func (e *Engine) lockFor(key naming.ServiceKey) *sync.Mutex {
	var h maphash.Hash
	h.SetSeed(e.seed)
	h.WriteString(key.Namespace)
	h.WriteByte(0)
	h.WriteString(key.Group)
	h.WriteByte(0)
	h.WriteString(key.Name)
	return &e.locks[h.Sum64()%lockStripes]
}

// sleep waits d or until Close; it reports false when closed.
func (e *Engine) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-e.ctx.Done():
		return false
	}
}

// checkHash refuses a message built on another member view, or from a
// sender this node does not know by that name.
func (e *Engine) checkHash(from string, hash uint64) error {
	if mine := e.view.Hash(); hash != mine {
		e.stats.rejected.Add(1)
		e.log.WithField("from", from).Debug("message refused: member views differ")
		return naming.Errorf(naming.ErrUnavailable, "member views differ between %s (%016x) and %s (%016x), retry", from, hash, e.self, mine)
	}
	if !e.table().isLive(from) {
		// Equal views but an unknown sender: the sender calls itself by a
		// name the member list does not use (a host name against an IP).
		e.stats.rejected.Add(1)
		return naming.Errorf(naming.ErrForbidden, "%s is not a live member as %s lists them; every node must name members alike", from, e.self)
	}
	return nil
}

func unavailable(format string, args ...any) error {
	return &naming.Error{Kind: naming.ErrUnavailable, Msg: fmt.Sprintf(format, args...)}
}
