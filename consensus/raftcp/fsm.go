package raftcp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/hashicorp/raft"
	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// entryVersion is the first byte of every log entry this package writes;
// the rest is a JSON array of naming.Op. A new format gets a new byte.
const entryVersion byte = 1

// encodeEntry builds one log entry from a batch of ops: the version byte
// and json.Marshal(ops) (written by EncodeOps, byte for byte the same).
func encodeEntry(ops []naming.Op) ([]byte, error) {
	return appendOps(append(make([]byte, 0, 64+384*len(ops)), entryVersion), ops)
}

// decodeEntry reverses encodeEntry. It fails on anything else and never panics.
func decodeEntry(data []byte) ([]naming.Op, error) {
	if len(data) == 0 {
		return nil, errors.New("empty entry")
	}
	if data[0] != entryVersion {
		return nil, fmt.Errorf("unknown entry version %d", data[0])
	}
	if ops, ok := DecodeOpsFast(data[1:]); ok {
		return ops, nil
	}
	var ops []naming.Op
	if err := json.Unmarshal(data[1:], &ops); err != nil {
		return nil, fmt.Errorf("decode ops: %w", err)
	}
	return ops, nil
}

// fsm applies committed log entries to the catalog. hashicorp/raft calls
// Apply, Snapshot and Restore from one goroutine, in log order, on every
// node, so every catalog goes through the same sequence of ops.
type fsm struct {
	cat *naming.Catalog
	log *logrus.Entry

	// lastTime is the largest Op.Time applied; a snapshot carries it so a
	// restore stamps the same time on every node.
	lastTime atomic.Int64
	// applied is the index of the last command applied, or of the snapshot
	// restored (ReadIndex waits for it); snapIndex names the latest
	// snapshot's index (nil: unknown).
	applied   atomic.Uint64
	snapIndex func() uint64

	entries, ops, skipped atomic.Uint64
}

var _ raft.FSM = (*fsm)(nil)

// Apply applies one entry and returns []error, one result per op, which
// reaches the proposer through the ApplyFuture. An entry that cannot be
// decoded is logged and skipped: every node skips it alike.
func (f *fsm) Apply(l *raft.Log) interface{} {
	if l.Type != raft.LogCommand {
		return nil
	}
	ops, err := decodeEntry(l.Data)
	if err != nil {
		f.skipped.Add(1)
		f.applied.Store(l.Index)
		f.log.WithError(err).WithField("index", l.Index).Error("skipping undecodable raft log entry")
		return naming.Errorf(naming.ErrInvalid, "raft log entry %d could not be decoded: %v", l.Index, err)
	}
	f.entries.Add(1)
	f.ops.Add(uint64(len(ops)))
	errs := make([]error, len(ops))
	for i := 0; i < len(ops); {
		j := i + 1
		for j < len(ops) && probeFlip(&ops[i]) && probeFlip(&ops[j]) && ops[j].Service == ops[i].Service {
			j++
		}
		if j-i == 1 {
			errs[i] = f.applyOp(ops[i])
		} else {
			f.applyFlips(ops[i:j], errs[i:j])
		}
		i = j
	}
	f.applied.Store(l.Index)
	return errs
}

// probeFlip reports whether op sets the health of a persistent instance:
// what the probes of the service's owner write.
func probeFlip(op *naming.Op) bool {
	return op.Kind == naming.OpSetHealth && !op.IsEphemeral()
}

// applyFlips applies a run of probeFlip ops of one service, adjacent in an
// entry (the owner's flips that waited for the same commit), as one change
// of the service (naming.Catalog.ApplyGroup): one view, one revision and
// one notification of its watchers, with each op's own result and the
// same instances, digests and time of last change as op after op gives.
func (f *fsm) applyFlips(ops []naming.Op, errs []error) {
	for i := range ops {
		if ops[i].Time > f.lastTime.Load() {
			f.lastTime.Store(ops[i].Time)
		}
	}
	copy(errs, f.cat.ApplyGroup(ops))
}

func (f *fsm) applyOp(op naming.Op) error {
	if op.Time > f.lastTime.Load() {
		f.lastTime.Store(op.Time)
	}
	if op.IsEphemeral() {
		return errEphemeral(op.Kind)
	}
	return f.cat.Apply(op)
}

func errEphemeral(k naming.OpKind) error {
	return naming.Errorf(naming.ErrInvalid, "ephemeral %s ops are replicated by distro, not raft", k)
}

// Snapshot captures the persistent state. The catalog hands out a copy of
// immutable views, so Persist can encode it while Apply goes on.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	return &fsmSnapshot{doc: snapshotDoc{
		Version: snapshotVersion,
		Time:    f.lastTime.Load(),
		State:   f.cat.PersistentState(),
	}}, nil
}

// Restore replaces the catalog's persistent state with the snapshot's.
// raft calls it with no Apply running; readers see the catalog switch from
// the old state to the new one under the catalog's lock.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	doc, err := readSnapshot(rc)
	if err != nil {
		f.log.WithError(err).Error("raft snapshot could not be restored")
		return err
	}
	f.cat.RestorePersistent(doc.State, doc.Time)
	f.lastTime.Store(doc.Time)
	if f.snapIndex != nil {
		// raft restores the latest snapshot of its store (its own at start,
		// or one just received from the leader).
		if i := f.snapIndex(); i > f.applied.Load() {
			f.applied.Store(i)
		}
	}
	f.log.WithField("services", len(doc.State.Services)).Info("restored catalog from raft snapshot")
	return nil
}
