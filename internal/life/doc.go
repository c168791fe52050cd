// Package life holds the start-once, close-once state that the project's
// components share (the fronts, the UDP pusher, the health checkers,
// Distro, the metrics history): a second Start, or one after Close, is
// refused with an error naming the component, and a second Close does
// nothing. Each component keeps its own lock around it.
package life
