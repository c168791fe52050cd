package naming

import "context"

// Reader is what the fronts, the health checkers and access control read.
// *Catalog implements it. All methods are safe for concurrent use; returned
// views (*Service, *AuthState) are immutable and must not be modified.
type Reader interface {
	ServiceReader
	// Namespace returns one namespace; "public" always exists.
	Namespace(id string) (Namespace, bool)
	// Namespaces lists every namespace, "public" first.
	Namespaces() []Namespace
	// Instance returns the current version of one instance; reading it
	// does not build the service's instance list, so it costs O(log n) in
	// a large service.
	Instance(key ServiceKey, ik InstanceKey) (*Instance, bool)
	// Switches returns the cluster-wide switches.
	Switches() Switches
	// Auth returns the access-control data (users, roles, permissions).
	Auth() *AuthState
}

// ServiceReader is the part of Reader that reads and watches services. It
// is all the DNS front reads, so that a source holding nothing but
// services (a fixed table in a test, a mirror fed by the client) can serve
// DNS. Implementations are safe for concurrent use and hand out views that
// never change.
type ServiceReader interface {
	// Service returns the current view of one service.
	Service(key ServiceKey) (*Service, bool)
	// Services lists the services of a namespace and group ("" = all), sorted.
	Services(namespace, group string) []*Service
	// Watch calls fn with the key of every service whose visible state
	// changes, until cancel is called; fn must not block. See
	// Catalog.Watch for the rules.
	Watch(fn func(ServiceKey)) (cancel func())
}

// Writer is the only way to change state. It returns once the op is durable
// for its consistency class: an ephemeral op once the responsible node has
// applied it, a persistent op once it is committed. Writers stamp Op.Time
// when it is zero. Apply never blocks past ctx.
//
// Which node is responsible for a service is not part of it: the health
// checker and the HTTP front's metrics, which ask, each declare an Owns of
// their own beside it.
type Writer interface {
	Apply(ctx context.Context, op Op) error
}

var _ Reader = (*Catalog)(nil)
