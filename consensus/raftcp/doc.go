// Package raftcp is the consistent (CP) half of a Sextant cluster: one
// hashicorp/raft group over the cluster's members that orders every change
// to persistent data and applies it, in log order, to each node's
// *naming.Catalog.
//
// Guarantees:
//   - What goes through raft: every naming.Op that is not ephemeral —
//     persistent instances (register, deregister, update, health results),
//     service definitions and cluster configs, namespaces and switches.
//     Ephemeral ops are refused (ErrInvalid); Distro replicates them.
//   - Node.Apply returns nil only after the op was committed by a quorum and
//     applied to the leader's catalog; otherwise it returns the op's own
//     catalog error (ErrConflict, ErrNotFound...), a *NotLeaderError naming
//     the leader (nothing was written; forward the op), or, within
//     ApplyTimeout (default 5 s) or the caller's ctx, an error wrapping
//     naming.ErrUnavailable ("no raft quorum: ..."). It never hangs and never
//     reports success for a write it could not confirm. A timed-out write
//     whose entry had reached raft may still be applied later; the error
//     says so.
//   - Every node applies the same entries in the same order, and an Op
//     carries its own time (stamped by the proposer), so catalogs agree.
//     The state machine reads only durable records and persistent
//     instances (naming/durable.go), never what Distro replicated, so the
//     persistent state depends on the log alone. What does depend on
//     ephemeral data is decided before an op is ordered: the leader refuses
//     to delete a service that still has instances (ErrConflict).
//   - ReadIndex on the leader, then a read of the catalog, is linearizable,
//     and costs no log entry: the leader records its commit index (once it
//     has committed an entry of its own term), confirms its leadership with
//     a heartbeat round, and waits until the state machine applied that
//     index. (Barrier also works, at the price of a log entry fsynced on
//     every member.)
//   - The TCP transport (with Config.Secret) admits connections from the
//     members' addresses only, bounds the handshakes per address, and runs a
//     mutual challenge with the secret, inside mutual TLS when configured
//     (authstream.go, sources.go); a connection flood cannot keep members
//     from electing a leader.
//
// Log entry format: one version byte (1) followed by a JSON array of
// naming.Op. An entry that cannot be decoded is logged and skipped on every
// node alike; the state machine never panics on the bytes it is given.
// Entries of instance ops are written (EncodeOps) and read (DecodeOpsFast)
// by hand-written code that produces exactly json.Marshal's bytes and
// encoding/json's result, deferring to encoding/json for anything else, so
// members of any version read each other's entries.
//
// Group commit: concurrent Apply calls queue their ops; one goroutine
// proposes everything queued (at most MaxBatch ops) as one entry, with no
// timer: at once when none of its entries is in flight, and while fewer
// than MaxInflight (2) are in flight only when the entry carries at least
// OverlapBatch (32) ops; smaller groups wait for the in-flight entry to
// commit. While an entry is written to disk and replicated the next batch
// fills up, so throughput grows with the number of writers. Each caller
// receives its own op's result.
//
// Snapshots: a JSON document {"version":1,"time":T,"state":S} where S is
// naming.PersistentState (namespaces, switches, durable services with their
// persistent instances) and T the time of the last applied op, used as the
// restore time so every node restores alike. Restore replaces the
// catalog's persistent half and keeps its ephemeral instances, and the
// services that are not durable.
// Snapshots are files under <DataDir>/snapshots; the log and raft's stable
// store are one bolt file, <DataDir>/raft.db, synced on every write (bolt's
// free-page list is rebuilt at open rather than written on each commit).
//
// Bootstrap and join: a node with no raft state (no term, log or snapshot)
// bootstraps with the configuration built from Config.Peers, every peer a
// voter. All members of a fresh cluster do so with the identical list, which
// hashicorp/raft documents as safe: they all write the same first entry. A
// node with existing state never bootstraps; it rejoins from its data dir.
// A member added to a running cluster starts with Config.Join and no state,
// and the leader adds it with SetPeers, which also removes members, one at
// a time.
//
// hashicorp/raft is imported only here (and by cmd through this package).
package raftcp
