// Package naming holds Sextant's data model and its in-memory catalog.
//
// The model follows Nacos: namespace (default "public") → group (default
// "DEFAULT_GROUP") → service → cluster (default "DEFAULT") → instance. An
// instance is ephemeral (kept alive by client beats, replicated by Distro) or
// persistent (stored durably, checked by the server, never expired).
//
// Guarantees:
//   - State changes only through Catalog.Apply with an Op. Apply is
//     deterministic: the same sequence of Ops gives the same catalog on every
//     node, because every time an Op needs is carried in the Op itself.
//   - An Op that fails validation changes nothing and returns an *Error whose
//     Kind is one of the sentinels in errors.go and whose message is suitable
//     for a Nacos client.
//   - Readers get immutable views: a *Service returned by the catalog is never
//     modified afterwards; every change builds a new view. Views may be shared
//     freely between goroutines without locks.
//   - The persistent state (PersistentState) that a sequence of CP ops gives
//     does not depend on the ephemeral ops applied between them: CP ops see
//     durable service records and persistent instances only (durable.go).
//   - Change listeners are called after every change that alters what a
//     reader can see, with the key of the service that changed.
//   - Memory per instance stays small: what the catalog keeps never points
//     into the strings an Op came with (a request body, say); instances with
//     equal metadata share one map; a change costs a few digests, not a pass
//     over every instance of the service.
//   - Writes to one service are serialised by a lock of their own (one of
//     64 stripes, by key); the new view is built outside the catalog-wide
//     lock, which is held only to read the current view and to install the
//     new one with the next revision. Readers never wait for a build.
//   - A change to one instance costs O(log n) in a service of n instances:
//     a view keeps its instances in a persistent B+tree (itree.go), and a
//     new view copies one root-to-leaf path and shares every other node
//     with the view before. Service.Instances is built from the tree once
//     per view, on the first read through Catalog.Service or Services;
//     Catalog.Instance, Catalog.View and Views (views whose list is left
//     unbuilt), Service.Find, Len and All read the tree without building
//     it.
//
// naming imports nothing else from this module. The fronts (HTTP, DNS) and the
// health checker see only Reader and Writer.
package naming
