// Package healthcheck judges the health of instances, with Nacos's
// semantics: ephemeral instances by their clients' beats (BeatChecker),
// persistent instances by server-side probes (PersistentChecker).
//
// # Ephemeral instances: beats
//
// An ephemeral instance is healthy while its client beats. When its beat
// timeout (default 15 s, metadata key preserved.heart.beat.timeout, in ms)
// passes without a beat it is marked unhealthy; when its delete timeout
// (default 30 s, preserved.ip.delete.timeout) passes it is removed. A later
// beat makes an unhealthy instance healthy again (the catalog does that when
// it applies the beat). Persistent instances are never judged by beats.
//
// Guarantees:
//   - A BeatChecker sweeps every Config.SweepInterval (1 s by default), so an
//     instance flips, and is removed, within one interval of its due time.
//   - Only services this node is responsible for (Writer.Owns) are judged,
//     and only while the healthCheckEnabled switch is on. Each period in
//     which the node judges a service is logged at info level ("judging
//     starts" with at, "judging stops" with from and to: its first and
//     last sweep, Unix ms), so periods of several nodes can be checked
//     for overlap. A period is logged as ended as soon as a change of the
//     member view (Peers with a Watch, *cluster.Membership) takes the
//     service away, not only at the next sweep, so that the log of a node
//     killed between two sweeps does not leave it open past the moment
//     another node starts; what the sweeps judge does not change.
//   - Every change goes through naming.Writer as an Op carrying ExpectBeat,
//     so a beat that lands between the sweep's decision and the write wins:
//     the op then changes nothing.
//   - A sweep's flips and expiries of one service are written as one group
//     when the writer takes groups (consensus.Router, down to
//     naming.Catalog.ApplyGroup): one change of the service, one
//     notification of DNS and subscribers, however many instances expire
//     in it at once. Each op of a group keeps its own ExpectBeat and its
//     own result, logged as when written alone.
//   - Ownership grace: beats for a service this node did not own went to
//     another node, so the local last-beat times of a service may be stale
//     when ownership arrives. A service's instances are judged as if their
//     last beat were no earlier than the moment this checker saw itself
//     become responsible (at Start, or at the first sweep that sees the
//     service owned). A newly gained service therefore never loses
//     instances before one full timeout has passed. The same rule covers a
//     service that appears between two sweeps, since the checker cannot tell
//     a local registration from data that arrived from another node: an
//     instance of a brand-new service that never beats after registering may
//     flip up to one more interval late.
//   - The rules are in the pure function PlanService over
//     naming.Service views and a time; the loop only supplies the time and
//     applies the result.
//   - Self-preservation (Config.SelfPreservation, on by default; switch
//     beat-preserve-share on a node, 0 turning it off): while a member is
//     unreachable (Peers.AllReachable), a sweep that would remove more than
//     Config.PreserveShare (a quarter) of a service's ephemeral instances,
//     or of all those this node judges, removes none of them: they are
//     marked unhealthy instead and removed once every member is reachable
//     again. Clients that beat through the far side of a partition are not
//     deleted for its length. It logs a warning when it starts holding and
//     counts held removals (BeatStats.Held, metric
//     sextant_beat_removals_held_total).
//   - Empty services: a service that a registration created (implicit) and
//     that has had no instance for Config.EmptyServiceGrace (1 minute, as
//     seen by this node's sweeps) is deleted, by the class that holds its
//     record. A durable record (naming/durable.go) is Raft state: the node
//     that owns the service deletes it through the writer, so through Raft,
//     which refuses it if an instance arrived meanwhile (and in AP mode,
//     where Raft takes no service op: such a record, left from another
//     mode, stays). A record that is not durable lives in each node's
//     memory only, created there by the ephemeral data the node applies:
//     every node drops its own, owner or not, in every mode, through
//     BeatWriter.DropEmpty (consensus.Router and consensus.Standalone;
//     BeatStats.EmptyDropped), which checks and deletes in one step.
//     Replicating the removal instead (through Distro, from the owner)
//     would add a record kind and its ordering against registrations, for
//     a record that each node can judge alone: Distro replicates
//     instances and tombstones, never empty records, so a node that
//     dropped the service and one that still lists it empty hold the same
//     ephemeral data (empty checksums) and verify repairs nothing between
//     them. Nothing deletes an instance: the catalog keeps the ephemeral
//     instances of a deleted service, and an instance that arrives later
//     (a registration, a sync) creates the service again.
//
// # Persistent instances: probes
//
// A persistent instance is never removed by the server. The node that owns
// its service (Writer.Owns) probes it every interval: a TCP connect, or an
// HTTP GET whose status must be one of the expected codes; checker NONE
// means no probes, and health is then set by PUT /nacos/v1/ns/health/instance.
// After UnhealthyThreshold consecutive failed probes a healthy instance is
// marked unhealthy; after HealthyThreshold consecutive good probes an
// unhealthy one is marked healthy again. The catalog then leaves it out of
// DNS answers and healthyOnly lists, unless the service's protect threshold
// is reached.
//
// Settings, each taken from the first layer that sets it (Resolve):
//
//	setting              cluster (PUT /cluster)     service metadata                    node default (ProbeConfig)
//	checker, path, ...   healthChecker JSON         -                                   TCP
//	port                 checkPort, useInstancePort4Check                               the instance's port
//	interval             checkInterval              sextant.check.interval              20 s
//	timeout              checkTimeout               sextant.check.timeout               500 ms TCP, 2 s HTTP
//	unhealthy threshold  unhealthyThreshold         sextant.check.unhealthy-threshold   1
//	healthy threshold    healthyThreshold           sextant.check.healthy-threshold     1
//
// Durations are milliseconds or Go durations ("5000", "5s"); values out
// of range in metadata are ignored. Nacos flips after 3 probes (its
// checkTimes switch); Sextant's defaults of 1 and 1 mark an instance
// unhealthy after one failed check and healthy after one good one.
// Nacos's HTTP checker accepts only 200; here expectedResponseCode takes a
// list ("200,204"), classes ("2xx") and ranges ("200-299"), 200 when blank.
//
// Guarantees:
//   - Only the owner probes. A service is followed at the tick after it
//     changes and its ownership is read again every Rescan (1 s): a node
//     that loses a service stops probing it, drops results in flight and
//     writes no flip for it; a node that gains one probes its instances at
//     once (as fast as Workers allow). Following a change costs the
//     instances that changed, not the whole service: views are immutable
//     and sorted, so a new view is compared with the last one by their
//     instance trees, skipping the parts both share (the whole service is
//     visited again only when its probe settings changed).
//   - Neither checker builds a service's instance list: both read the
//     catalog's views (View, Views) and walk their trees (All, Len,
//     naming.DiffViews), so a service under churn is not copied into a
//     new list at every sweep or tick.
//   - A probe is bounded by its timeout through its context, and at most
//     Workers probes run at once. A target that hangs holds one worker for
//     one timeout; while fewer targets hang than there are workers, the
//     others keep their schedule. Due probes start in order of due time, so
//     a saturated pool delays every target alike rather than starving some.
//     One instance has at most one probe in flight.
//   - Only changes of health are written: one OpSetHealth{Ephemeral:false,
//     Check} through the Writer (so through Raft in a cluster, and every
//     node and DNS answer agree). Other results are kept in memory on the
//     probing node: LastCheck returns the last one, for GET /instance.
//   - Every flip is logged at info with its reason ("connection refused",
//     "timeout after 500ms", "HTTP 500"); Stats counts probes, failures and
//     flips.
//   - Timing is the pure functions Judge (thresholds) and NextDue
//     (interval) and the schedule, driven by the injected Clock.
package healthcheck
