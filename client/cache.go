package client

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// Sources of a service view, for logs.
const (
	fromServer = "server"
	fromPush   = "push"
	fromDisk   = "snapshot"
)

// entry is one service the client holds: the last view a server (or the
// snapshot) gave, and the subscribers that follow it.
type entry struct {
	key      string
	grouped  string
	clusters string

	mu        sync.Mutex
	svc       *Service  // nil until known
	observed  time.Time // when the request that brought svc was sent; zero for the snapshot
	source    string
	delivered string // digest of the view last handed to subscribers
	announced bool   // a view was handed to subscribers
	subs      map[uint64]*subscriber
	inflight  chan struct{} // a fetch in progress
	lastErr   error
	fails     int  // polls failed in a row
	gone      bool // removed: late answers are dropped
}

// holder is the in-memory cache of every service held, with the failover
// view laid over it.
type holder struct {
	log             *logrus.Entry
	updateWhenEmpty bool
	snap            *snapshots // nil: no snapshot files

	mu      sync.RWMutex
	entries map[string]*entry

	// failover is the view read from the failover folder; nil while the
	// switch is off.
	failover atomic.Pointer[map[string]*Service]
}

func newHolder(log *logrus.Entry, updateWhenEmpty bool, snap *snapshots) *holder {
	return &holder{log: log, updateWhenEmpty: updateWhenEmpty, snap: snap, entries: map[string]*entry{}}
}

func (h *holder) get(key string) *entry {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.entries[key]
}

// getOrCreate returns the entry under key, creating it.
func (h *holder) getOrCreate(key, grouped, clusters string) (*entry, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.entries[key]; ok {
		return e, false
	}
	e := &entry{key: key, grouped: grouped, clusters: clusters, subs: map[uint64]*subscriber{}}
	h.entries[key] = e
	return e, true
}

// remove drops the entry and closes its subscribers.
func (h *holder) remove(key string) {
	h.mu.Lock()
	e := h.entries[key]
	delete(h.entries, key)
	h.mu.Unlock()
	if e == nil {
		return
	}
	e.mu.Lock()
	e.gone = true
	for _, s := range e.subs {
		s.close()
	}
	e.subs = map[uint64]*subscriber{}
	e.mu.Unlock()
}

// all returns every entry, sorted by key.
func (h *holder) all() []*entry {
	h.mu.RLock()
	out := make([]*entry, 0, len(h.entries))
	for _, e := range h.entries {
		out = append(out, e)
	}
	h.mu.RUnlock()
	slices.SortFunc(out, func(a, b *entry) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	return out
}

// failoverView returns the failover view of key, if the switch is on and
// a failover file names it.
func (h *holder) failoverView(key string) *Service {
	if m := h.failover.Load(); m != nil {
		return (*m)[key]
	}
	return nil
}

// effective is what readers see of e: the failover view when there is
// one, else the held view. The caller holds e.mu.
func (h *holder) effective(e *entry) *Service {
	if s := h.failoverView(e.key); s != nil {
		return s
	}
	return e.svc
}

// update lays a view from a server, a push or the snapshot over e. Views
// older than the one held (by the time their request was sent) are
// dropped, and so is an empty list that would replace a non-empty one
// unless UpdateCacheWhenEmpty. It reports whether the held view changed.
func (h *holder) update(e *entry, svc Service, observed time.Time, source string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return false
	}
	if e.svc != nil && observed.Before(e.observed) {
		h.log.WithFields(logrus.Fields{"service": e.key, "source": source}).Debug("dropping an older view")
		return false
	}
	if e.svc != nil && len(svc.Hosts) == 0 && len(e.svc.Hosts) > 0 && !h.updateWhenEmpty {
		e.observed = observed
		h.log.WithFields(logrus.Fields{"service": e.key, "source": source, "held": len(e.svc.Hosts)}).
			Debug("empty instance list ignored, keeping the held one (UpdateCacheWhenEmpty is off)")
		return false
	}
	svc.Name, svc.Clusters = e.grouped, e.clusters
	if svc.Hosts == nil {
		svc.Hosts = []Instance{}
	}
	changed := e.svc == nil || digest(e.svc) != digest(&svc)
	e.svc, e.observed, e.source = &svc, observed, source
	if changed && h.snap != nil && source != fromDisk {
		if err := h.snap.write(e.key, &svc); err != nil {
			h.log.WithError(err).WithField("service", e.key).Warn("snapshot not written")
		}
	}
	h.announceLocked(e)
	return changed
}

// announceLocked hands the effective view to the subscribers when it
// differs from the one they saw last. The caller holds e.mu, which keeps
// announcements of one service in order.
func (h *holder) announceLocked(e *entry) {
	eff := h.effective(e)
	if eff == nil {
		return
	}
	d := digest(eff)
	if e.announced && d == e.delivered {
		return
	}
	e.delivered, e.announced = d, true
	for _, id := range sortedIDs(e.subs) {
		e.subs[id].deliver(copyService(eff))
	}
}

// reannounce re-checks every entry after the failover view changed.
func (h *holder) reannounce() {
	for _, e := range h.all() {
		e.mu.Lock()
		h.announceLocked(e)
		e.mu.Unlock()
	}
}

func sortedIDs(m map[uint64]*subscriber) []uint64 {
	ids := make([]uint64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// copyService returns s with its own host slice, so callers may reorder it.
func copyService(s *Service) Service {
	c := *s
	c.Hosts = slices.Clone(s.Hosts)
	if c.Hosts == nil {
		c.Hosts = []Instance{}
	}
	return c
}
