package consensus

import (
	"errors"

	"sextant/naming"
)

// Limits bound what clients can make the registry hold. A write over a
// limit is refused with naming.ErrTooLarge before anything changes. Zero
// means no limit.
type Limits struct {
	// MaxInstancesPerService bounds the instances of one service.
	MaxInstancesPerService int `yaml:"max-instances-per-service"`
	// MaxServicesPerNamespace bounds the services of one namespace.
	MaxServicesPerNamespace int `yaml:"max-services-per-namespace"`
	// MaxNamespaces bounds the namespaces, explicit or made by a first
	// registration, so that the per-namespace limits bound the whole.
	MaxNamespaces int `yaml:"max-namespaces"`
}

// DefaultLimits returns 10,000 instances per service, 100,000 services
// per namespace and 1,000 namespaces.
func DefaultLimits() Limits {
	return Limits{MaxInstancesPerService: 10000, MaxServicesPerNamespace: 100000, MaxNamespaces: 1000}
}

// Validate checks the limits.
func (l Limits) Validate() error {
	if l.MaxInstancesPerService < 0 || l.MaxServicesPerNamespace < 0 || l.MaxNamespaces < 0 {
		return errors.New("limits must not be negative")
	}
	return nil
}

// ServiceCounter counts the services of a namespace and the namespaces;
// *naming.Catalog implements it.
type ServiceCounter interface {
	CountServices(namespace string) int
	CountNamespaces() int
	Namespace(id string) (naming.Namespace, bool)
}

// CheckLimits refuses op when it would add an instance to a full service,
// a service to a full namespace, or a namespace (explicitly, or by a first
// service in it) to a registry holding MaxNamespaces. cur is op's service (nil when absent).
// It looks at nothing but the counts, and only when a count is at its
// limit does it look for the op's instance, so beats stay cheap.
// Replicated ops (OpReplaceEphemeral) are not checked: the node that took
// the write did.
func CheckLimits(l Limits, op naming.Op, cur *naming.Service, sc ServiceCounter) error {
	var adds *naming.InstanceKey
	switch op.Kind {
	case naming.OpRegister:
		if op.Instance != nil {
			k := op.Instance.Key()
			adds = &k
		}
	case naming.OpBeat:
		if op.Instance != nil {
			adds = &op.Target
		}
	case naming.OpCreateService:
	case naming.OpCreateNamespace:
		if all := sc.CountNamespaces(); l.MaxNamespaces > 0 && all >= l.MaxNamespaces {
			return naming.Errorf(naming.ErrTooLarge, "the registry holds %d namespaces, the most allowed (max-namespaces)", all)
		}
		return nil
	default:
		return nil
	}
	if cur == nil {
		if adds == nil && op.Kind != naming.OpCreateService || l.MaxServicesPerNamespace <= 0 && l.MaxNamespaces <= 0 {
			return nil
		}
		ns := op.Service.Namespace
		n := sc.CountServices(ns)
		if l.MaxServicesPerNamespace > 0 && n >= l.MaxServicesPerNamespace {
			return naming.Errorf(naming.ErrTooLarge,
				"namespace %s holds %d services, the most allowed (max-services-per-namespace); service %s was not created",
				ns, n, op.Service.Grouped())
		}
		if _, explicit := sc.Namespace(ns); n == 0 && !explicit && l.MaxNamespaces > 0 {
			if all := sc.CountNamespaces(); all >= l.MaxNamespaces {
				return naming.Errorf(naming.ErrTooLarge,
					"the registry holds %d namespaces, the most allowed (max-namespaces); namespace %s was not created", all, ns)
			}
		}
		return nil
	}
	if adds == nil || l.MaxInstancesPerService <= 0 || cur.Len() < l.MaxInstancesPerService {
		return nil
	}
	if cur.Find(*adds) != nil {
		return nil // replaces or renews an instance it already holds
	}
	return naming.Errorf(naming.ErrTooLarge,
		"service %s holds %d instances, the most allowed (max-instances-per-service); instance %s was not added",
		op.Service.Grouped(), cur.Len(), adds.Addr())
}
