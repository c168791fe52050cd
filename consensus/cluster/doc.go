// Package cluster keeps a node's view of the other registry nodes.
//
// Members come from a static list (--members) or a Nacos cluster.conf file
// (one host[:port] per line, '#' comments, port 8848 by default). The file
// is polled and re-read when it changes, and on Reload, so members can be
// added or removed without a restart.
//
// Every ReportInterval each node reports to every other member. A member is
// UP after a successful report in either direction (our report to it
// succeeded, or its report to us arrived). Each failed report of ours counts
// one failure: SuspectAfter consecutive failures make it SUSPICIOUS,
// DownAfter make it DOWN once Config.DownTime has passed since the last
// successful exchange with it, and a refused connection (nothing listening)
// makes it DOWN at once. A member is DOWN from the start until a first report
// succeeds, so a node never routes work to a peer it has not heard from.
//
// A member must also be heard: one whose reports have not reached this
// node for DownTime (counted from this node's start when none came) is
// taken as DOWN even while it takes this node's reports. It can take
// connections but open none (its outbound traffic cut, its local ports
// exhausted), so it can neither sync what it holds nor forward; its own
// lease has ended before that (below), so the others take its services
// over one judge at a time instead of every node ceasing to judge while
// it lasts.
//
// Each report carries the sender's live set and the members it reaches
// both ways. A member this node does not reach stays live while a
// member it does reach (and heard from within DownAfter+1 intervals) says
// it reaches it: cutting one link between two members leaves every view
// the same, since a third member still sees both. A live-set change sends
// a report round at once, so views agree again within a round trip.
//
// Guarantees:
//   - Live lists the members that are neither DOWN nor reached by a member
//     this node reaches, sorted, and always holds this node. SUSPICIOUS
//     members stay live: one lost report does not move work around.
//   - Agreed holds only while Live is a majority of the configured members
//     (less those whose port refused our last report: no process runs
//     there) and every member this node reaches reported the same live set
//     lately. A node cut off with a minority, or whose peers see the
//     cluster otherwise, is not agreed: nothing may be expired on its
//     judgement alone.
//   - Agreed also needs a lease: a majority (this node and members
//     reporting the same live set) took a report of this node's sent
//     within Config.Lease, which is shorter than Config.DownTime, and it is
//     checked at each call. A member counts this node DOWN, and so takes
//     its services over, no sooner than DownTime after the last report of
//     this node it took; so a node cut off stops judging before anyone
//     takes over, on each node's own clock, whatever the clocks read. A
//     node within DownTime of its start is not agreed while a member it has
//     not reached since is out of its live set (that member may hold a
//     lease the node's previous run granted).
//   - Hash is a digest of Live. Two nodes have the same Hash exactly when
//     they see the same live set (barring a 64-bit collision), so a receiver
//     can refuse a message built on another view of the cluster.
//   - Watch callbacks run after every change of the live set or of the
//     configured list, on the goroutine that saw the change, without locks
//     held.
//   - A bad cluster.conf changes nothing: the previous list stays in force.
package cluster
