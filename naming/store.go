package naming

import "context"

// Reader is what the fronts and the health checker read. *Catalog
// implements it. All methods are safe for concurrent use; returned *Service
// views are immutable and must not be modified.
type Reader interface {
	// Service returns the current view of one service.
	Service(key ServiceKey) (*Service, bool)
	// Services lists the services of a namespace and group ("" = all), sorted.
	Services(namespace, group string) []*Service
	// Namespace returns one namespace; "public" always exists.
	Namespace(id string) (Namespace, bool)
	// Namespaces lists every namespace, "public" first.
	Namespaces() []Namespace
	// Switches returns the cluster-wide switches.
	Switches() Switches
	// Watch calls fn with the key of every service whose visible state
	// changes, until cancel is called. See Catalog.Watch for the rules.
	Watch(fn func(ServiceKey)) (cancel func())
}

// Writer is the only way to change state. It returns once the op is durable
// for its consistency class: an ephemeral op once the responsible node has
// applied it, a persistent op once it is committed. Writers stamp Op.Time
// when it is zero. Apply never blocks past ctx.
type Writer interface {
	Apply(ctx context.Context, op Op) error
	// Owns reports whether this node is responsible for health-checking the
	// service's instances (the Distro owner; every service on a lone node).
	Owns(key ServiceKey) bool
}

var _ Reader = (*Catalog)(nil)
