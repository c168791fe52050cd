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
//	DataDir/wal.log         a header (synced offset), then one record per CP op: length, CRC-32C, JSON {"seq","op"}
//	DataDir/snapshot.json   the CP state as of a sequence number
//
// Guarantees:
//
//   - Order: one mutex covers applying a CP op to the catalog and appending
//     its record, so the log's order is the order in which the catalog saw
//     the ops, and replay rebuilds the same state.
//   - Only accepted ops are logged: a CP op is decided against the CP state
//     with every logged record applied (kept beside the catalog), and
//     appended only if accepted. Concurrent writers share fsyncs: whoever
//     syncs covers every record written before (group commit).
//   - Durable before visible: a CP op reaches the catalog (lists, DNS,
//     pushes) only once its record is on disk (fsync, when Sync is on), in
//     log order, and is acknowledged after that. A crash never takes back
//     something a reader saw. A crash after the fsync and before the reply
//     leaves a change that was stored but not acknowledged, as with any
//     store.
//   - A failed write or fsync puts the writer in a failed state: the log is
//     cut back to its last stored record, the CP state is reloaded from
//     disk (readers never saw what was not stored), the ops that were not
//     stored get ErrUnavailable, further CP ops get ErrUnavailable
//     and Ready reports the failure until a restart. Ephemeral ops go on.
//   - Loading: NewStandalone replaces the catalog's CP half with the snapshot
//     and replays the records after it. The log's header holds a synced
//     offset, a lower bound (it lags by at most 64 KiB) of what fsyncs
//     covered. Damage at or after it (a torn write, or a hole: the pages of
//     one write reach the disk in any order) is the unsynced tail: it is cut
//     off with a warning, since nothing there was acknowledged. Before it,
//     a bad record at the very end of the log is cut off the same way, and
//     a bad record followed by more data is corruption and an error. A log
//     written before the header existed is read without a synced offset
//     and gets one at the next compaction.
//   - Compaction: after SnapshotEvery records the CP state is written to a
//     temporary file, synced and renamed over snapshot.json, the directory
//     is synced, and only then is the log emptied. Records carry sequence
//     numbers, so a crash between the rename and the cut replays nothing
//     twice.
//   - Services created in memory by an ephemeral registration in AP mode are
//     not durable and not stored (they vanish on restart with their
//     instances). CP ops treat them as absent (naming/durable.go), so replay
//     gives the same state; admission creates one durably before updating
//     it. In MIXED mode a persistent registration into a missing service
//     creates it durably first; an ephemeral one never waits on Raft:
//     Distro takes it at once and the durable record is committed in the
//     background once a leader exists (Router, router_create.go), until
//     Router.Close, which stops those background creates and waits for them.
//   - Server modes (AP, CP, MIXED) are enforced before anything changes; see
//     Admit. The consistency class of a deregister, update or set-health op
//     is taken from the stored instance, not from the client's flag.
//   - In a cluster, a CP op a follower forwards to the Raft leader
//     (Router.CPApplyHandler, at CPApplyPath) is admitted again on the
//     leader, against its own state (Admit, CheckLimits), as an op sent to
//     it directly is. InternalHandler is the one handler of every
//     node-to-node path, which the HTTP front dispatches to at its listener.
//   - The data directory is locked (flock) while open; a second writer on it
//     fails to open. Close syncs and closes the log; Apply after Close
//     returns ErrUnavailable.
package consensus
