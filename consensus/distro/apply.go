package distro

import (
	"slices"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// record returns the current record of key: the catalog's ephemeral
// instances and the remembered tombstones, merged so each instance key
// appears once. The caller holds key's lock.
func (e *Engine) record(key naming.ServiceKey) Record {
	s, _ := e.cat.View(key)
	var beats []BeatMark
	for _, t := range e.marks.list(key) {
		beats = append(beats, BeatMark(t))
	}
	return Merge(Record{Key: key, Instances: ephemeralOf(s), Beats: beats}, Record{Key: key, Tombstones: e.tombs.list(key)})
}

// snapshot is record under key's lock.
func (e *Engine) snapshot(key naming.ServiceKey) Record {
	mu := e.lockFor(key)
	mu.Lock()
	defer mu.Unlock()
	return e.record(key)
}

// targetOf returns the instance an instance op concerns.
func targetOf(op *naming.Op) naming.InstanceKey {
	if op.Kind == naming.OpRegister && op.Instance != nil {
		return op.Instance.Key()
	}
	return op.Target
}

// applyOwnedFrom applies a write this node is responsible for, which came
// by way of origin ("local", "forwarded by X", "takeover", "notice retry";
// the log names it when the write brings an instance back). The op is
// stamped later than every version of the instance this node knows (its
// last change, its beat mark and any tombstone), so the responsible node's
// own writes win the merge even when clocks disagree; deregistrations
// leave a tombstone.
//
// A beat is stamped with this node's clock when it is applied, not with
// the clock of the node that received it: beat arrival is judged on one
// clock, so skew between members cannot flip or keep instances. (The
// receiver's stamp still tells whether a full beat was sent before the
// instance's deregistration.) Other writes keep the receiver's stamp, so a
// write delivered late cannot outrank one made meanwhile elsewhere. A beat
// checker's op (ExpectBeat set) is stamped as of the beat it judged,
// not as of now: its verdict rests on no beat after ExpectBeat, so a copy
// whose responsible node (across a partition) recorded a later beat must
// win over it. A beat on a healthy instance BeatMarkInterval or more after
// its last change or mark becomes its new beat mark, a replicated change.
//
// It returns the wait for a peer to confirm the write when it is a
// client's deregistration (nil otherwise), which only Apply waits on.
func (e *Engine) applyOwnedFrom(op naming.Op, origin string) (*peerWait, error) {
	key := op.Service
	mu := e.lockFor(key)
	mu.Lock()
	defer mu.Unlock()
	before, _ := e.cat.View(key)
	w, err := e.prepareOwned(op, before)
	if err != nil {
		return nil, err
	}
	if err := e.cat.Apply(w.op); err != nil {
		return nil, err
	}
	after, _ := e.cat.View(key)
	var cur *naming.Instance
	if after != nil {
		cur = after.Lookup(w.ik)
	}
	e.settleOwned(&w, cur, after != before, origin)
	return w.confirmed, nil
}

// ownedWrite is one write the responsible node applies: the op as it
// stamped it, and what it knew of the op's instance before.
type ownedWrite struct {
	op   naming.Op
	ik   naming.InstanceKey
	sent int64            // the op's time as the node that received it stamped it
	prev *naming.Instance // the instance before the write; nil when absent
	mark int64            // its beat mark before the write; 0 when none
	tomb int64            // its tombstone before the write; 0 when none
	// confirmed is released when a peer holds the write: set by
	// settleOwned for a client's deregistration.
	confirmed *peerWait
}

// prepareOwned stamps op, a write to a service this node is responsible
// for, against before, the service's view (nil when absent), or refuses
// it as stale. The caller holds the service's lock.
func (e *Engine) prepareOwned(op naming.Op, before *naming.Service) (ownedWrite, error) {
	key := op.Service
	sent := op.Time // as the node that received the write stamped it
	switch {
	case op.ExpectBeat != 0:
		op.Time = op.ExpectBeat
	case op.Kind == naming.OpBeat || op.Time == 0:
		op.Time = e.nowMs()
	}
	ik := targetOf(&op)
	var prev *naming.Instance
	if before != nil {
		prev = before.Lookup(ik)
	}
	mark := e.marks.get(key, ik)
	floor := e.tombs.get(key, ik)
	if prev == nil && op.Kind == naming.OpBeat && e.justDeregistered(key, ik) {
		// A full beat that races its client's deregistration: sent before
		// it or together with it (a client stops beating, then
		// deregisters), through another member whose clock may run
		// ahead, so its stamp cannot tell. Within staleBeatWindow of the
		// deregistration, by this node's clock alone, a full beat does
		// not bring the instance back; a live client registers again on
		// "not found".
		e.stats.staleBeats.Add(1)
		return ownedWrite{}, naming.Errorf(naming.ErrNotFound, "instance not found: %s was deregistered moments ago", ik.ID(key))
	}
	if prev == nil && floor != 0 && sent != 0 && sent <= e.staleFloor(key, ik, floor) {
		switch op.Kind {
		case naming.OpBeat:
			// A beat sent before the instance was deregistered must not
			// bring it back; a live client registers again on "not found".
			e.stats.staleBeats.Add(1)
			return ownedWrite{}, naming.Errorf(naming.ErrNotFound, "instance not found: %s was deregistered after this beat was sent", ik.ID(key))
		case naming.OpRegister:
			// Nor a registration: one that arrives after a later
			// deregistration was abandoned by its client (it timed out
			// on a slow or cut link and tried elsewhere); stamped past
			// the tombstone, it would bring the instance back for a
			// delete timeout. A client still waiting retries, and its
			// retry is stamped anew.
			e.stats.staleRegistrations.Add(1)
			return ownedWrite{}, naming.Errorf(naming.ErrUnavailable, "%s was deregistered after this registration was sent, retry", ik.ID(key))
		}
	}
	if prev != nil {
		floor = max(floor, version{in: prev, mark: mark}.time())
	}
	if op.Time <= floor {
		op.Time = floor + 1
	}
	return ownedWrite{op: op, ik: ik, sent: sent, prev: prev, mark: mark, tomb: e.tombs.get(key, ik)}, nil
}

// settleOwned records what the catalog made of w: cur is its instance
// after the write (nil when absent), changed whether the write changed the
// service. It keeps tombstones, beat marks and the deregistration records,
// and queues the change for the peers. The caller holds the service's
// lock.
func (e *Engine) settleOwned(w *ownedWrite, cur *naming.Instance, changed bool, origin string) {
	op, key, ik, prev := w.op, w.op.Service, w.ik, w.prev
	if prev == nil && cur != nil {
		e.noteCreated(op, ik, origin, w.sent, w.tomb)
	}
	switch {
	case op.Kind == naming.OpDeregister:
		// A deregistration of an instance this node does not hold still
		// counts: a peer may hold it. One that ExpectBeat turned into a
		// no-op does not.
		if (prev != nil && cur == nil) || (prev == nil && op.ExpectBeat == 0) {
			e.tombs.set(key, ik, op.Time)
			e.marks.remove(key, ik)
			if op.ExpectBeat == 0 {
				e.deregs.set(key, ik, e.nowMs())
				// A client's deregistration goes to the peers at once, not
				// SyncDelay later, and its answer waits for one of them
				// (peerwait.go): acknowledged, it must survive this
				// node's crash right after.
				w.confirmed = e.syncNow(key, ik)
				return
			}
			changed = true
		}
	case cur == nil:
	default:
		if e.tombs.remove(key, ik) {
			changed = true
		}
		if op.Kind == naming.OpRegister || prev == nil {
			e.deregs.remove(key, ik) // the client is back
			e.heldStamps.remove(key, ik)
		}
		// The mark takes the earlier of the arrival and the receiver's
		// stamp: a beat delivered late (a node that was paused works off
		// its backlog) must not outrank a deregistration made meanwhile.
		at := op.Time
		if w.sent != 0 && w.sent < at {
			at = w.sent
		}
		if !changed && op.Kind == naming.OpBeat && cur == prev && at-max(cur.Updated, w.mark) >= e.cfg.BeatMarkInterval.Milliseconds() {
			e.marks.put(key, ik, at)
			e.markBeat(key, ik)
		}
	}
	if changed {
		e.markDirty(key, ik)
	}
}

// staleBeatWindow is how long after a client's deregistration, on the
// responsible node's clock, a full beat for the instance is taken as one
// that raced the deregistration rather than a live client's: one beat
// interval.
const staleBeatWindow = 5 * time.Second

// justDeregistered reports whether this node, as the responsible node,
// applied a client's deregistration of ik within staleBeatWindow.
func (e *Engine) justDeregistered(key naming.ServiceKey, ik naming.InstanceKey) bool {
	return e.deregisteredWithin(key, ik, staleBeatWindow)
}

// deregisteredWithin reports whether this node, as the responsible node,
// applied a client's deregistration of ik less than d ago by its own
// clock, the instance not having come back since.
func (e *Engine) deregisteredWithin(key naming.ServiceKey, ik naming.InstanceKey, d time.Duration) bool {
	at := e.deregs.get(key, ik)
	return at != 0 && e.nowMs()-at < d.Milliseconds()
}

// staleFloor is the stamp a write for ik, which this node does not hold,
// must be sent after to count as newer than its deregistration: the
// tombstone's, floor, or, when this node stamped the tombstone past a
// peer's copy from a clock running ahead (holdsDeregistration), the
// deregistration's own stamp, so that a client registering again is not
// refused until the clocks' difference has passed.
func (e *Engine) staleFloor(key naming.ServiceKey, ik naming.InstanceKey, floor int64) int64 {
	if at := e.heldStamps.get(key, ik); at != 0 {
		return min(at, floor)
	}
	return floor
}

// deregistrationHold is how long, by the responsible node's own clock, a
// client's deregistration holds against a peer's copy of the instance
// that arrives later stamped later: the time a healed partition's backlog
// of syncs and verify rounds takes to arrive. Such a copy was most often
// made before the deregistration, on a member whose clock runs ahead
// (stamps from two clocks cannot order the pair); past the hold, the later
// stamp wins as anywhere.
const deregistrationHold = 30 * time.Second

// holdsDeregistration reports whether the instance v of ik, received from
// a peer, must lose to this node's recent deregistration of ik although
// stamped later. It must when this node applied the client's
// deregistration as the responsible node within deregistrationHold and
// holds no copy since; it may have stopped being the responsible node
// meanwhile (a healed partition moves services back), since the member
// that now is may hold the copy. This node then stamps its tombstone past
// v and sends it to every member, so that every member drops v; a live
// client whose instance this was registers again on its next beat's "not
// found" (a gRPC member on its next renewal).
func (e *Engine) holdsDeregistration(key naming.ServiceKey, ik naming.InstanceKey, local *naming.Instance, v version, peer string) bool {
	return v.in != nil && local == nil && peer != "" && e.deregisteredWithin(key, ik, deregistrationHold)
}

// mergeRecord merges rec into the local copy: for every instance key it
// carries, the newer of the local and the received version wins (Merge's
// rule, applied per key, so a record carrying only some instances - a
// delta - merges like a whole one). The winners are applied in one catalog
// op that copies only what changed. Received tombstones older than
// TombstoneTTL still remove older instances but are not kept. When
// propagate is set and this node owns the key, the changes are queued for
// sync.
func (e *Engine) mergeRecord(rec Record, propagate bool) (bool, error) {
	return e.mergeFrom(rec, propagate, "")
}

// mergeFrom is mergeRecord for a record from peer (sync, verify, load),
// which the log names when the record brings an instance back.
func (e *Engine) mergeFrom(rec Record, propagate bool, peer string) (bool, error) {
	if err := rec.Key.Validate(); err != nil {
		return false, err
	}
	key := rec.Key
	mu := e.lockFor(key)
	mu.Lock()
	defer mu.Unlock()
	incoming := make(map[naming.InstanceKey]version, len(rec.Instances)+len(rec.Tombstones))
	offer := func(ik naming.InstanceKey, v version) {
		if cur, ok := incoming[ik]; !ok || newer(v, cur) {
			incoming[ik] = v
		}
	}
	marks := rec.marks()
	for _, in := range rec.Instances {
		if in != nil {
			offer(in.Key(), version{in: in, mark: marks[in.Key()]})
		}
	}
	for _, t := range rec.Tombstones {
		offer(t.Instance, version{tomb: t.Time})
	}
	now := e.nowMs()
	horizon := now - e.cfg.TombstoneTTL.Milliseconds()
	before, _ := e.cat.View(key)
	var (
		ups     []*naming.Instance
		removed []naming.InstanceKey
		buried  []Tombstone          // tombstones to keep
		revived []naming.InstanceKey // tombstones beaten by an instance
		touched []naming.InstanceKey
		marked  []BeatMark           // winners' marks that differ from the local ones
		held    []naming.InstanceKey // deregistrations that stood (holdsDeregistration)
	)
	for ik, v := range incoming {
		lin := ephemeralAt(before, ik)
		lt, lm := e.tombs.get(key, ik), e.marks.get(key, ik)
		if local, ok := localVersion(lin, lm, lt); ok && !newer(v, local) {
			continue
		}
		if e.holdsDeregistration(key, ik, lin, v, peer) {
			e.stats.heldDeregistrations.Add(1)
			e.revivalLog(key, ik).WithFields(logrus.Fields{
				"origin": peer, "stamp": v.in.Updated, "mark": v.mark, "tomb": lt, "now": now,
			}).Info("a copy stamped after the client's deregistration arrived within the hold: the deregistration stands")
			buried = append(buried, Tombstone{Instance: ik, Time: v.time() + 1})
			held = append(held, ik)
			if e.heldStamps.get(key, ik) == 0 {
				e.heldStamps.set(key, ik, lt)
			}
			continue
		}
		touched = append(touched, ik)
		if v.mark != lm {
			marked = append(marked, BeatMark{Instance: ik, Time: v.mark})
		}
		if v.in != nil {
			if lin == nil || compareContent(lin, v.in) != 0 {
				ups = append(ups, v.in) // not when only the mark moved
			}
			if lt != 0 {
				revived = append(revived, ik)
				e.noteRevived(key, ik, v, lt, peer)
			}
			continue
		}
		if lin != nil {
			removed = append(removed, ik)
		}
		if v.tomb >= horizon {
			buried = append(buried, Tombstone{Instance: ik, Time: v.tomb})
		}
	}
	changed := false
	if len(ups) > 0 || len(removed) > 0 {
		op := naming.Op{Kind: naming.OpMergeEphemeral, Time: now, Service: key, Instances: ups, Removed: removed}
		if err := e.cat.Apply(op); err != nil {
			return false, err
		}
		after, _ := e.cat.View(key)
		changed = after != before
	}
	for _, ik := range revived {
		if e.tombs.remove(key, ik) {
			changed = true
		}
		e.heldStamps.remove(key, ik)
	}
	for _, t := range buried {
		e.tombs.set(key, t.Instance, t.Time)
		changed = true
	}
	for _, m := range marked {
		e.marks.put(key, m.Instance, m.Time)
		changed = true
	}
	e.raiseBeats(key, marked)
	if changed && propagate && e.owns(key) {
		e.markDirty(key, touched...)
	}
	for _, ik := range held {
		// The peers that took the copy drop it at once, whatever the
		// message that brought it here.
		e.syncNow(key, ik)
	}
	return changed, nil
}

// localVersion is the local state of one instance key: the newer of its
// instance (with its beat mark) and its tombstone; ok is false when there
// is neither.
func localVersion(in *naming.Instance, mark, tomb int64) (v version, ok bool) {
	if in != nil {
		v, ok = version{in: in, mark: mark}, true
	}
	if tomb != 0 {
		if t := (version{tomb: tomb}); !ok || newer(t, v) {
			v, ok = t, true
		}
	}
	return v, ok
}

// ephemeralAt returns the ephemeral instance of key ik in s, or nil.
func ephemeralAt(s *naming.Service, ik naming.InstanceKey) *naming.Instance {
	if s == nil {
		return nil
	}
	if in := s.Lookup(ik); in == nil || in.Ephemeral {
		return in
	}
	for in := range s.All() { // a persistent instance shares the key
		if in.Ephemeral && in.Key() == ik {
			return in
		}
	}
	return nil
}

// deltaRecord returns the current versions of some instances of key: the
// instance or the tombstone of each, whichever is newer, sorted by
// instance key. Keys with neither are left out.
func (e *Engine) deltaRecord(key naming.ServiceKey, keys map[naming.InstanceKey]struct{}) Record {
	mu := e.lockFor(key)
	mu.Lock()
	defer mu.Unlock()
	s, _ := e.cat.View(key)
	r := Record{Key: key}
	for ik := range keys {
		v, ok := localVersion(ephemeralAt(s, ik), e.marks.get(key, ik), e.tombs.get(key, ik))
		switch {
		case !ok:
		case v.in != nil:
			r.Instances = append(r.Instances, v.in)
			if v.mark != 0 {
				r.Beats = append(r.Beats, BeatMark{Instance: ik, Time: v.mark})
			}
		default:
			r.Tombstones = append(r.Tombstones, Tombstone{Instance: ik, Time: v.tomb})
		}
	}
	slices.SortFunc(r.Instances, func(a, b *naming.Instance) int { return compareInstanceKey(a.Key(), b.Key()) })
	slices.SortFunc(r.Tombstones, func(a, b Tombstone) int { return compareInstanceKey(a.Instance, b.Instance) })
	return r
}

// dropLocal forgets this node's copy of key.
func (e *Engine) dropLocal(key naming.ServiceKey) error {
	mu := e.lockFor(key)
	mu.Lock()
	defer mu.Unlock()
	e.tombs.replace(key, nil)
	e.marks.replace(key, nil)
	s, _ := e.cat.View(key)
	if len(ephemeralOf(s)) == 0 {
		return nil
	}
	return e.cat.Apply(naming.Op{Kind: naming.OpReplaceEphemeral, Time: e.nowMs(), Service: key})
}

// raiseBeats brings the local last-beat time of healthy instances up to
// their received beat marks: a beat a responsible node saw is a beat, and
// a node that owns the service now (or after the next view change) must
// not judge the instance by an older one. A mark later than this node's
// clock (the marking node's clock runs ahead) counts as a beat now, not
// in the future: otherwise, once this node judges the instance, a client
// that stopped beating would stay listed for the delete timeout plus the
// skew (the reliability suite with clocks 120 s apart kept a
// deregistered instance 2.5 minutes). The caller holds key's lock.
func (e *Engine) raiseBeats(key naming.ServiceKey, marks []BeatMark) {
	if len(marks) == 0 {
		return
	}
	s, _ := e.cat.View(key)
	now := e.nowMs()
	for _, m := range marks {
		in := ephemeralAt(s, m.Instance)
		at := min(m.Time, now)
		if m.Time == 0 || in == nil || !in.Healthy || in.LastBeat() >= at {
			continue
		}
		if err := e.cat.Apply(naming.Op{Kind: naming.OpBeat, Time: at, Service: key, Ephemeral: true, Target: m.Instance}); err != nil {
			e.log.WithError(err).WithField("service", key.String()).Debug("beat mark not applied")
		}
	}
}
