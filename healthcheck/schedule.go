package healthcheck

import (
	"slices"
	"time"

	"sextant/internal/dueq"
	"sextant/naming"
)

// target is one persistent instance this node probes.
type target struct {
	dueq.Entry // when the next probe is due, and the place in the queue (not queued while running or removed)

	svc naming.ServiceKey
	ik  naming.InstanceKey

	probe              Target
	interval           time.Duration
	unhealthyThreshold int
	healthyThreshold   int

	running bool // a probe is in flight (or its flip is being written)
	removed bool // no longer probed by this node; a result in flight is dropped
	streak  Streak
	last    naming.ProbeReport // zero until the first probe ends
}

// schedule holds the targets of the services this node probes, ordered by
// due time. It has no goroutines and no clock: callers pass the time. It
// is not safe for concurrent use.
type schedule struct {
	cfg      ProbeConfig
	services map[naming.ServiceKey]*serviceTargets
	queue    dueq.Queue[*target]
}

type serviceTargets struct {
	rev uint64
	// view is the view last synced and rules the rules of each cluster
	// resolved from it: while the rules stay the same, the next view is
	// followed by visiting only the instances that changed.
	view    *naming.Service
	rules   map[string]*Rules
	targets map[naming.InstanceKey]*target
}

func newSchedule(cfg ProbeConfig) *schedule {
	return &schedule{cfg: cfg, services: map[naming.ServiceKey]*serviceTargets{}}
}

// size returns the number of targets.
func (s *schedule) size() int {
	n := 0
	for _, st := range s.services {
		n += len(st.targets)
	}
	return n
}

// sync makes the targets of one service match its current view at time
// now: svc is nil when the service is gone, and owned is false when this
// node must not probe it. New instances are due at once; removed ones are
// dropped; an instance whose probe changed (address, checker) starts a new
// streak. A view of the same revision as last time changes nothing.
//
// Views are immutable and their instances sorted by ID, so when the rules
// of the clusters seen last time are unchanged, only the instances that are
// not the very same value as in the previous view are visited, found by
// naming.DiffViews, which skips the parts of the two views' trees they
// share: a write to a large service costs a few instances and one path of
// its tree, not the whole service.
func (s *schedule) sync(key naming.ServiceKey, svc *naming.Service, owned bool, now time.Time) {
	if svc == nil || !owned {
		s.drop(key)
		return
	}
	st := s.services[key]
	if st != nil && st.rev == svc.Revision {
		return
	}
	switch {
	case st != nil && st.view != nil && len(st.targets) == 0 && svc.PersistentLen() == 0:
		// Nothing was probed and nothing is to be: a service of
		// ephemeral instances costs no walk, however often it changes.
	case st != nil && st.view != nil && s.sameRules(st, svc):
		s.syncChanged(st, key, svc, now)
	default:
		if st == nil {
			st = &serviceTargets{targets: map[naming.InstanceKey]*target{}}
		}
		s.syncAll(st, key, svc, now)
	}
	// A service with nothing to probe (only ephemeral instances, or checker
	// NONE) is kept too, so that its next view is followed incrementally.
	st.rev, st.view = svc.Revision, svc
	s.services[key] = st
}

// sameRules reports whether every cluster resolved at the last sync
// resolves to the same rules under svc's settings.
func (s *schedule) sameRules(st *serviceTargets, svc *naming.Service) bool {
	for name, r := range st.rules {
		if nr := Resolve(s.cfg, &svc.Meta, name); !sameRules(r, &nr) {
			return false
		}
	}
	return true
}

// rulesOf returns the rules of one cluster, resolving them once per sync.
func (s *schedule) rulesOf(st *serviceTargets, svc *naming.Service, cluster string) *Rules {
	r := st.rules[cluster]
	if r == nil {
		rr := Resolve(s.cfg, &svc.Meta, cluster)
		r = &rr
		st.rules[cluster] = r
	}
	return r
}

// syncAll visits every instance of svc.
func (s *schedule) syncAll(st *serviceTargets, key naming.ServiceKey, svc *naming.Service, now time.Time) {
	st.rules = map[string]*Rules{}
	seen := make(map[naming.InstanceKey]bool, len(st.targets))
	var lastCluster string
	var r *Rules
	for in := range svc.All() {
		if in.Ephemeral {
			continue
		}
		if r == nil || in.Cluster != lastCluster {
			// Instances of one cluster mostly come in runs: one map
			// lookup per run, not per instance.
			r, lastCluster = s.rulesOf(st, svc, in.Cluster), in.Cluster
		}
		if r.Type == TypeNONE {
			continue
		}
		ik := in.Key()
		seen[ik] = true
		s.upsert(st, key, ik, r, in, now)
	}
	for ik, t := range st.targets {
		if !seen[ik] {
			s.remove(t)
			delete(st.targets, ik)
		}
	}
}

// syncChanged visits the instances of svc that are not in st.view, and
// those of st.view that are not in svc. Both lists are sorted by ID, and
// within a service the ID determines the instance key.
func (s *schedule) syncChanged(st *serviceTargets, key naming.ServiceKey, svc *naming.Service, now time.Time) {
	naming.DiffViews(st.view, svc, func(was, cur *naming.Instance) {
		switch {
		case cur == nil:
			s.removeKey(st, was.Key())
		case was != nil && was.Key() != cur.Key():
			s.removeKey(st, was.Key())
			s.visit(st, key, svc, cur, now)
		default:
			s.visit(st, key, svc, cur, now)
		}
	})
}

// visit brings the target of one instance of svc up to date.
func (s *schedule) visit(st *serviceTargets, key naming.ServiceKey, svc *naming.Service, in *naming.Instance, now time.Time) {
	ik := in.Key()
	if in.Ephemeral {
		s.removeKey(st, ik)
		return
	}
	r := s.rulesOf(st, svc, in.Cluster)
	if r.Type == TypeNONE {
		s.removeKey(st, ik)
		return
	}
	s.upsert(st, key, ik, r, in, now)
}

// upsert adds the target of a probed instance, or updates it.
func (s *schedule) upsert(st *serviceTargets, key naming.ServiceKey, ik naming.InstanceKey, r *Rules, in *naming.Instance, now time.Time) {
	probe := r.Target(in)
	t := st.targets[ik]
	if t == nil {
		t = &target{svc: key, ik: ik}
		t.Due = now
		st.targets[ik] = t
		s.queue.Push(t)
	} else if !sameTarget(t.probe, probe) {
		t.streak = Streak{}
	}
	t.probe = probe
	t.unhealthyThreshold, t.healthyThreshold = r.UnhealthyThreshold, r.HealthyThreshold
	if t.interval != r.Interval {
		t.interval = r.Interval
		// A shorter interval takes effect now, not after the old one.
		if next := now.Add(r.Interval); t.Queued() && t.Due.After(next) {
			t.Due = next
			s.queue.Fix(t)
		}
	}
}

// removeKey removes the target of one instance, if there is one.
func (s *schedule) removeKey(st *serviceTargets, ik naming.InstanceKey) {
	if t := st.targets[ik]; t != nil {
		s.remove(t)
		delete(st.targets, ik)
	}
}

// drop removes every target of a service.
func (s *schedule) drop(key naming.ServiceKey) {
	st := s.services[key]
	if st == nil {
		return
	}
	for _, t := range st.targets {
		s.remove(t)
	}
	delete(s.services, key)
}

// dropOthers removes the targets of every service not in keep.
func (s *schedule) dropOthers(keep map[naming.ServiceKey]bool) {
	for key := range s.services {
		if !keep[key] {
			s.drop(key)
		}
	}
}

func (s *schedule) remove(t *target) {
	t.removed = true
	if t.Queued() {
		s.queue.Remove(t)
	}
}

// next returns the earliest target due at or before now, and marks it
// running; nil when none is due.
func (s *schedule) next(now time.Time) *target {
	if head, ok := s.queue.Peek(); !ok || head.Due.After(now) {
		return nil
	}
	t := s.queue.Pop()
	t.running = true
	return t
}

// countDue returns how many targets are due at now, counting up to limit.
// It visits only the due targets (and their children in the heap).
func (s *schedule) countDue(now time.Time, limit int) int {
	n := 0
	var stack [64]int
	todo := append(stack[:0], 0)
	for len(todo) > 0 && n < limit {
		i := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if i >= s.queue.Len() || s.queue.At(i).Due.After(now) {
			continue // a heap: nothing below i is due either
		}
		n++
		todo = append(todo, 2*i+1, 2*i+2)
	}
	return n
}

// unpop puts back a target that next returned but that could not be started.
func (s *schedule) unpop(t *target) {
	t.running = false
	if !t.removed {
		s.queue.Push(t)
	}
}

// finish queues a target whose probe is over for its next probe at due.
func (s *schedule) finish(t *target, due time.Time) {
	t.running = false
	if t.removed {
		return
	}
	t.Due = due
	s.queue.Push(t)
}

// lookup returns the target of one instance, or nil.
func (s *schedule) lookup(key naming.ServiceKey, ik naming.InstanceKey) *target {
	if st := s.services[key]; st != nil {
		return st.targets[ik]
	}
	return nil
}

func sameRules(a, b *Rules) bool {
	return a.Type == b.Type && a.Interval == b.Interval && a.Timeout == b.Timeout &&
		a.UnhealthyThreshold == b.UnhealthyThreshold && a.HealthyThreshold == b.HealthyThreshold &&
		a.CheckPort == b.CheckPort && a.UseInstancePort == b.UseInstancePort && a.Path == b.Path &&
		slices.Equal(a.Headers, b.Headers) && slices.Equal(a.Codes, b.Codes)
}

func sameTarget(a, b Target) bool {
	return a.Type == b.Type && a.Addr == b.Addr && a.Path == b.Path && a.Timeout == b.Timeout &&
		slices.Equal(a.Headers, b.Headers) && slices.Equal(a.Codes, b.Codes)
}
