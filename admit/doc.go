// Package admit holds the admission control every front applies the same
// way: a bound on the requests served at once, past which a request is
// refused at once rather than queued, so that a flood costs little and the
// node recovers as soon as it ends.
//
// Guarantees:
//   - Shedder.Enter admits at most max requests at once (max <= 0: no
//     bound, nothing counted); every Enter is paired with Leave.
//   - Refusals are counted (Shed); the requests admitted now are reported
//     (InFlight). Both are safe for concurrent use and never block.
//
// admit imports nothing of ours; httpfront and grpcfront use it.
package admit
