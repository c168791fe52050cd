package consensus

import "sextant/naming"

// DropEmpty deletes key's service from this node's catalog alone when its
// record is not durable and it has no instance: the beat checker's
// collection of an empty service that only ephemeral data created.
//
// Such a record is not Raft state (naming/durable.go): it lives in memory,
// per node, and every node creates it from the ephemeral writes it
// applies. So each node removes its own, in any server mode, rather than
// ordering the removal through Raft (which AP mode refuses for service
// ops) or replicating it through Distro: Distro replicates instances and
// tombstones, never empty records, so a node that dropped a service and a
// node that still lists it empty hold the same ephemeral data (both
// checksums are empty), and neither verify nor sync brings the record
// back. An instance that reaches the node later, by a registration or a
// sync, creates the service again; one that arrives between this check
// and the deletion stays too, since the catalog never deletes ephemeral
// instances with a service (naming/durable.go).
//
// It refuses (ErrConflict) a record whose durable create this router is
// still committing; the catalog refuses a durable record, which only Raft
// removes (the owner's checker sends OpDeleteService through Apply), and
// a service with instances, checking and deleting in one step
// (Catalog.DropEmpty), so a durable create Raft commits at that moment
// (another member's create of the same name; never in AP mode) is not
// deleted with it. An absent service is no error.
func (r *Router) DropEmpty(key naming.ServiceKey) error {
	if _, busy := r.creating.Load(key); busy {
		return naming.Errorf(naming.ErrConflict, "service %s is being made durable", key.Grouped())
	}
	return r.cat.DropEmpty(key)
}

// DropEmpty is Router.DropEmpty for a lone node: it deletes key's service
// from the catalog when its record is not durable (not in the log: naming's
// CP state holds no such record) and it has no instance. It holds the lock
// that orders CP ops, so no durable create can land between its check and
// the deletion; a create still on its way to disk counts as durable.
func (s *Standalone) DropEmpty(key naming.ServiceKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shut {
		return errClosed()
	}
	if logged, _ := s.cp.View(key); logged != nil && logged.Durable {
		return naming.Errorf(naming.ErrConflict, "service %s is durable: only its log deletes it", key.Grouped())
	}
	return s.cat.DropEmpty(key)
}
