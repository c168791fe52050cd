// Package healthcheck expires ephemeral instances whose clients stopped
// beating, with Nacos's semantics.
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
//     and only while the healthCheckEnabled switch is on.
//   - Every change goes through naming.Writer as an Op carrying ExpectBeat,
//     so a beat that lands between the sweep's decision and the write wins:
//     the op then changes nothing.
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
//   - The rules are the pure functions Plan and PlanService over
//     naming.Service views and a time; the loop only supplies the time and
//     applies the result.
package healthcheck
