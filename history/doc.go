// Package history keeps the last hour of a node's figures in a ring
// buffer, for the console's overview charts, without an external metrics
// store.
//
// Every Config.Interval the Ring reads the node's counters (a function the
// node gives it) and keeps one Sample: the instances held and how many are
// healthy, and the rates per second of registrations, beats and DNS
// queries over the interval, computed from the counters' totals. It keeps
// Config.Span / Config.Interval samples; older ones are overwritten. A
// counter that went down (reset) gives a rate of 0 for that interval, the
// first sample has rates of 0, and nothing is ever negative.
//
// Record is a pure step given the time, so the sampling rules are tested
// with chosen times; Start drives it from a ticker.
package history
