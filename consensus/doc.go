// Package consensus holds Sextant's naming.Writer implementations: the
// writers that decide where an op goes and make it durable for its
// consistency class. Today that is Standalone, the writer of a node that
// runs alone; Distro (AP, ephemeral data) and Raft (CP data) writers for a
// cluster come later and reuse the server-mode rules in modes.go (Admit).
//
// # Standalone
//
// A lone node owns every service (Owns is always true) and is its own
// leader. Ephemeral ops (ephemeral registrations, beats, and changes to
// ephemeral instances) live in memory only: they are applied to the catalog
// and acknowledged. Everything else (persistent instances, services,
// namespaces, switches) is CP data and is also written to a log in the data
// directory:
//
//	DataDir/wal.log         one record per CP op: length, CRC-32C, JSON {"seq","op"}
//	DataDir/snapshot.json   the CP state as of a sequence number
//
// Guarantees:
//
//   - Order: one mutex covers applying a CP op to the catalog and appending
//     its record, so the log's order is the order in which the catalog saw
//     the ops, and replay rebuilds the same state.
//   - Only accepted ops are logged: a CP op is applied to the catalog first,
//     and appended only if the catalog accepted it. It is acknowledged only
//     after its record is on disk (fsync, when Sync is on). Concurrent
//     writers share fsyncs: whoever syncs covers every record written before
//     (group commit).
//   - The price of applying first: a reader may see a CP change up to one
//     fsync before it is on disk. If the process dies in that window, the
//     change is gone after restart, and it was never acknowledged, so no
//     client was told it succeeded. A crash after the fsync and before the
//     reply leaves a change that was stored but not acknowledged, as with
//     any store.
//   - A failed write or fsync puts the writer in a failed state: the log is
//     cut back to its last stored record, the catalog's CP half is reloaded
//     from disk (so readers stop seeing what was not stored), the ops that
//     were not stored get ErrUnavailable, further CP ops get ErrUnavailable
//     and Ready reports the failure until a restart. Ephemeral ops go on.
//   - Loading: NewStandalone replaces the catalog's CP half with the snapshot
//     and replays the records after it. A bad record at the very end of the
//     log (a write cut short by a crash) is cut off with a warning; a bad
//     record followed by more data is corruption and an error.
//   - Compaction: after SnapshotEvery records the CP state is written to a
//     temporary file, synced and renamed over snapshot.json, the directory
//     is synced, and only then is the log emptied. Records carry sequence
//     numbers, so a crash between the rename and the cut replays nothing
//     twice.
//   - Services created in memory by an ephemeral registration in AP mode are
//     not stored (they vanish on restart with their instances). Before the
//     first CP op on such a service, its creation is logged, so that replay
//     finds it. In MIXED mode a persistent registration into a missing
//     service creates it durably first; an ephemeral one never waits on
//     Raft: Distro takes it at once and the durable record is committed in
//     the background once a leader exists (Router, router_create.go).
//   - Server modes (AP, CP, MIXED) are enforced before anything changes; see
//     Admit. The consistency class of a deregister, update or set-health op
//     is taken from the stored instance, not from the client's flag.
//   - The data directory is locked (flock) while open; a second writer on it
//     fails to open. Close syncs and closes the log; Apply after Close
//     returns ErrUnavailable.
package consensus
