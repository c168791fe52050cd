package distro

import (
	"context"

	"sextant/naming"
)

// View is the member view the engine routes by. *cluster.Membership
// satisfies it.
type View interface {
	// Self is this node's address as the other members know it.
	Self() string
	// Live lists the members that count for ownership, this node included.
	Live() []string
	// Hash digests Live; nodes with equal hashes see the same live set.
	Hash() uint64
	// Watch calls fn after every change of Live; fn must not block.
	Watch(fn func()) (cancel func())
	// Agreed reports whether this node may act on its view alone: it
	// holds a majority of the members and its peers report the same live
	// set. Only then does Owns say yes (the beat checker judges nothing
	// otherwise).
	Agreed() bool
	// PeerLive returns the live set peer last reported, if its hash is
	// hash: a forward built on another view is accepted when the receiver
	// owns the key in both views.
	PeerLive(peer string, hash uint64) ([]string, bool)
}

// Transport carries Distro messages to one peer. Every message but
// Snapshot carries the sender's member-list hash; a receiver whose hash
// differs refuses it with an error of kind naming.ErrUnavailable and does
// nothing. Errors the receiver returns come back as *naming.Error with the
// same Kind; any other error means the message may not have arrived. All
// methods honour ctx and are safe for concurrent use.
type Transport interface {
	// ForwardBatch asks peer, the responsible node, to apply writes in
	// order, and returns its answer to each (nil for success). An error
	// means no write has an answer: the whole message was refused or may
	// not have arrived.
	ForwardBatch(ctx context.Context, peer string, hash uint64, ops []naming.Op) ([]error, error)
	// Sync delivers the current records of changed services.
	Sync(ctx context.Context, peer string, hash uint64, recs []Record) error
	// Relay asks via to deliver recs to peer as a Sync of its own: the
	// way around a cut link, when this node cannot reach peer but via can.
	Relay(ctx context.Context, via, peer string, hash uint64, recs []Record) error
	// RelayForward asks via to forward ops to peer, the responsible node,
	// and returns peer's answers as ForwardBatch does.
	RelayForward(ctx context.Context, via, peer string, hash uint64, ops []naming.Op) ([]error, error)
	// Verify sends the checksums of the services the sender owns. The peer
	// answers with the keys whose copy differs, or which it holds although
	// the sender did not list them.
	Verify(ctx context.Context, peer string, hash uint64, sums map[naming.ServiceKey]string) ([]naming.ServiceKey, error)
	// Fetch asks peer for its records of keys.
	Fetch(ctx context.Context, peer string, hash uint64, keys []naming.ServiceKey) ([]Record, error)
	// Snapshot asks peer for every record it holds (start-up load).
	Snapshot(ctx context.Context, peer string) ([]Record, error)
}

// Handler is the receiving side of Transport: a transport delivers each
// incoming message to it. *Engine implements it.
type Handler interface {
	OnForward(ctx context.Context, from string, hash uint64, op naming.Op) error
	OnForwardBatch(ctx context.Context, from string, hash uint64, ops []naming.Op) ([]error, error)
	OnSync(ctx context.Context, from string, hash uint64, recs []Record) error
	OnRelay(ctx context.Context, from, to string, hash uint64, recs []Record) error
	OnRelayForward(ctx context.Context, from, to string, hash uint64, ops []naming.Op) ([]error, error)
	OnVerify(ctx context.Context, from string, hash uint64, sums map[naming.ServiceKey]string) ([]naming.ServiceKey, error)
	Records(ctx context.Context, from string, hash uint64, keys []naming.ServiceKey) ([]Record, error)
	All(ctx context.Context, from string) ([]Record, error)
}

// Store is the catalog the engine keeps in step. *naming.Catalog satisfies it.
type Store interface {
	Apply(op naming.Op) error
	// ApplyGroup applies writes to one service's instances as one change
	// of it, and returns each one's error (naming.Catalog.ApplyGroup).
	ApplyGroup(ops []naming.Op) []error
	// View and Views return services without building their instance
	// lists; the engine reads instances only through Find, Lookup, Len and
	// All, so a write to a large service costs O(log n), not O(n).
	View(key naming.ServiceKey) (*naming.Service, bool)
	Views(namespace, group string) []*naming.Service
}

var (
	_ Handler = (*Engine)(nil)
	_ Store   = (*naming.Catalog)(nil)
)
