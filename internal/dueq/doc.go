// Package dueq is a min-heap of scheduled items by due time, shared by the
// schedulers that need one (the client's task scheduler and the health
// checker's probe schedule).
//
// Guarantees:
//   - The item with the earliest due time is first; items due at the same
//     time come out in no particular order.
//   - An item knows whether it is queued (Entry.Queued), so a caller can
//     move or remove it in O(log n) without a search, and an item is in at
//     most one queue at a time.
//   - No locking: a Queue belongs to its caller, which guards it.
package dueq
