// Package nacoswire holds the JSON shapes of the Nacos naming model that
// more than one side of Sextant writes or reads: an instance, the lenient
// form in which clients send one, the timing fields of a listed host and a
// row of the service catalog.
//
// It guarantees that the field names, their order and their omitempty
// choices are those of the Nacos API (see nacos-api.md), so that a
// server-side answer encoded from these types decodes into the client's
// types and the JSON of each is byte-for-byte what it was when each side
// wrote its own copy. It imports nothing of ours: the client uses it
// without depending on the server's packages, and each front converts
// naming's model into these shapes itself.
//
// It holds types and their defaults only; encoding stays with the callers
// (httpfront keeps its hand-written renderers, which its tests compare
// against encoding/json over these types).
package nacoswire
