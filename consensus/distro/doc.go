// Package distro replicates ephemeral instances between registry nodes
// (AP): every node holds every service's ephemeral instances and serves
// reads locally, and each service has one responsible node (its owner)
// that accepts its writes and judges its clients' beats.
//
// Guarantees:
//   - The owner of a service is chosen by rendezvous hashing over the live
//     members, so nodes that see the same live set agree, and a member that
//     leaves moves only the services it owned. Owns is a cached lookup.
//   - Every message carries the sender's member-list hash; a receiver whose
//     hash differs refuses it (naming.ErrUnavailable, "retry") and changes
//     nothing, except a forwarded write whose key it owns both in its view
//     and in the sender's (as last reported). A forwarded write is applied
//     by the receiver or refused, never forwarded again.
//   - Owns (asked by the beat checker) is true on at most the owner, and
//     only while its member view is agreed (a majority, and the peers it
//     reaches report the same view): a node cut off with a minority, or
//     whose view differs from its peers', expires nothing.
//   - Apply on a non-owner forwards once to the owner and returns its
//     answer; an unreachable owner gives naming.ErrUnavailable within
//     Config.ForwardTimeout. Apply never blocks longer. Writes forwarded
//     to one owner while a message to it is under way travel together in
//     the next message, each with its own answer; an idle node sends a
//     write at once. A stamped registration or deregistration the owner
//     acknowledged is merged here at once, as the owner's record of it,
//     so the node a client wrote to shows the write before the sync.
//   - Except beats: a beat for an instance this node's copy holds is
//     answered at once and rides in the next forward message without
//     waiting for the owner's answer, unless 4 × MaxForwardBatch writes
//     already wait for that owner or the last message to it failed (then
//     it waits like any write, until a message goes through again). The
//     client's answer depends only on the instance existing; a beat lost
//     on the way is sent again (up to three messages, to the node
//     responsible then), and beats of one instance waiting for a slow node
//     coalesce into one. Up to four messages to one node are under way at
//     once.
//   - The responsible node stamps every beat it applies with its own
//     clock, so skew between members neither flips a beating client nor
//     keeps a silent one.
//   - An acknowledged write (a beat answered at once aside) is in the
//     owner's catalog when Apply returns and reaches every live peer about
//     SyncDelay later (changes are batched), retried until delivered or
//     the peer is DOWN; a peer the owner cannot reach but another member
//     can gets it through that member (relay.go). Sync sends only the
//     instances and tombstones that changed (a delta record); verify, fetch
//     and load send whole records. A record, whole or partial, merges the
//     same way, so either kind may arrive in any order.
//   - A client's deregistration goes to every live peer at once, and the
//     owner answers it once a peer confirmed holding it (at most 500 ms
//     later, then without; not at all while no sync has got through since
//     such a wait ran out: Stats.UnconfirmedDeregistrations counts those);
//     one forwarded by another member is held by that member when it is
//     answered.
//   - Per instance the newest write wins, and deregistrations leave
//     tombstones for TombstoneTTL, so after a partition heals every node
//     converges on the same set: writes accepted on either side survive
//     unless a later write replaced or removed them, and deregistrations are
//     not undone by older copies. The merge rule (Merge) is commutative,
//     associative and idempotent.
//   - A registration or full beat sent (stamped by the node that received
//     it) no later than its instance's tombstone does not re-create the
//     instance: its client gave up on it, and it arrived late (a cut or
//     slow link, a paused node). A node that resumes after a stop refuses
//     writes for a moment. Any instance that does come back over its
//     tombstone is logged with what brought it.
//   - An instance whose responsible node kept receiving beats outlives an
//     expiry decided on the other side of a partition: beats are recorded
//     as replicated beat marks (at most one per instance per
//     BeatMarkInterval), and the beat checker's verdicts are stamped as of
//     the beat they judged.
//   - Every VerifyInterval each owner compares checksums with every peer and
//     repairs differences in both directions. A difference in a service
//     whose changes are already queued for that peer is left to the sync
//     for at most Config.QueuedGrace, then repaired whatever the traffic.
//   - Load fills a starting node from its peers, bounded by LoadTimeout.
//   - Every queue is a set keyed by service, with at most MaxDeltaKeys
//     changed instances per service (past it the whole record is queued),
//     so memory stays bounded by the number of services whatever the peers
//     do.
//
// See DESIGN.md for the protocol and the reasons behind it.
package distro
