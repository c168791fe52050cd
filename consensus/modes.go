package consensus

import "sextant/naming"

// Admission is what Admit decided for one op.
type Admission struct {
	// Create, when not nil, creates the op's missing service. It is durable
	// (CP) data and must be applied, and stored, before Op.
	Create *naming.Op
	// Op is the op to apply, with its consistency class fixed from the stored
	// instance (see FixClass).
	Op naming.Op
}

// Admit applies the server mode (switch serverMode; README, "Production layout", and ARCHITECTURE.md) to op,
// given the current view of op's service (nil when it does not exist). It is
// a pure function, so every writer (standalone, Raft) enforces the same
// rules:
//
//   - AP: only ephemeral instances. Registering or updating a persistent
//     instance, and creating, updating or deleting a service or cluster, are
//     refused with ErrForbidden. A registration into a missing service is
//     admitted as is: the catalog creates the service in memory.
//   - CP: only persistent instances. Ephemeral registrations and beats are
//     refused with ErrForbidden; a registration into a missing service is
//     refused with ErrNotFound (the service must be created first).
//   - MIXED (also a blank or unknown mode): both. A registration, or a beat
//     that carries the full instance, into a missing service is admitted
//     with a Create that makes the service durable first.
//
// Outside AP mode, a service that still has instances (ephemeral ones
// included) is not deleted (ErrConflict), and one that only ephemeral data
// created is created durably before an update (Create).
//
// In every mode, replicated ephemeral sets (OpReplaceEphemeral) are
// admitted as the responsible node admitted them; removing an instance and
// setting its health are admitted whatever its class, so that leftovers of
// another mode can be cleaned up and expired; namespace and switch ops are
// always admitted (the mode itself is a switch). Registering an instance over one of the other class with the
// same ip, port and cluster is refused with ErrConflict, since the two
// classes are stored apart; so is an op with ExpectBeat (from the beat
// checker) whose instance turns out to be persistent.
func Admit(sw naming.Switches, op naming.Op, cur *naming.Service) (Admission, error) {
	op = FixClass(op, cur)
	if op.ExpectBeat != 0 && !op.IsEphemeral() {
		// ExpectBeat comes from the beat checker, which judges ephemeral
		// instances only; beat times are not CP state, so such an op could
		// not be replayed the same way.
		return Admission{}, naming.Errorf(naming.ErrConflict,
			"instance %s is persistent: beat checks do not apply to it", op.Target.ID(op.Service))
	}
	mode := sw.ServerMode
	if mode != naming.ModeAP && mode != naming.ModeCP {
		mode = naming.ModeMixed
	}
	switch op.Kind {
	case naming.OpCreateService, naming.OpUpdateService, naming.OpDeleteService, naming.OpUpdateCluster:
		if mode == naming.ModeAP {
			return Admission{}, naming.Errorf(naming.ErrForbidden,
				"server mode is AP: services are created by registrations and cannot be created, updated or deleted (%s); set serverMode to MIXED or CP first", op.Kind)
		}
		return admitServiceOp(op, cur)
	case naming.OpRegister, naming.OpBeat:
		return admitRegistration(mode, op, cur)
	case naming.OpReplaceEphemeral:
		// Replication carries what the responsible node already admitted.
		return Admission{Op: op}, nil
	case naming.OpUpdateInstance:
		if mode == naming.ModeAP && !op.Ephemeral {
			return Admission{}, naming.Errorf(naming.ErrForbidden,
				"server mode is AP: persistent instances cannot be changed; set serverMode to MIXED or CP first")
		}
	}
	return Admission{Op: op}, nil
}

// admitServiceOp handles the service ops outside AP mode. The state machine
// sees only durable records (naming/durable.go), so admission, which sees
// everything this node holds, decides what depends on ephemeral data: a
// service with instances of either class is not deleted, and a service known
// only from ephemeral data is created durably before it is updated.
func admitServiceOp(op naming.Op, cur *naming.Service) (Admission, error) {
	switch {
	case op.Kind == naming.OpDeleteService && cur != nil:
		if err := naming.CheckDeleteService(op.Service, cur); err != nil {
			return Admission{}, err
		}
	case (op.Kind == naming.OpUpdateService || op.Kind == naming.OpUpdateCluster) && cur != nil && !cur.Durable:
		meta := cur.Meta
		return Admission{Op: op, Create: &naming.Op{Kind: naming.OpCreateService, Time: op.Time, Service: op.Service, Meta: &meta}}, nil
	}
	return Admission{Op: op}, nil
}

// admitRegistration handles OpRegister and OpBeat (a beat with the full
// instance re-registers a missing one).
func admitRegistration(mode string, op naming.Op, cur *naming.Service) (Admission, error) {
	ephemeral := op.IsEphemeral()
	switch {
	case mode == naming.ModeCP && ephemeral && op.Kind == naming.OpBeat:
		return Admission{}, naming.Errorf(naming.ErrForbidden,
			"server mode is CP: ephemeral instances and their beats are not accepted; register with ephemeral=false or set serverMode to MIXED")
	case mode == naming.ModeCP && ephemeral:
		return Admission{}, naming.Errorf(naming.ErrForbidden,
			"server mode is CP: ephemeral instances are not accepted; register with ephemeral=false or set serverMode to MIXED")
	case mode == naming.ModeAP && !ephemeral:
		return Admission{}, naming.Errorf(naming.ErrForbidden,
			"server mode is AP: persistent instances are not accepted; register with ephemeral=true or set serverMode to MIXED")
	}
	if op.Kind == naming.OpRegister && op.Instance != nil && cur != nil {
		if prev := cur.Find(op.Instance.Key()); prev != nil && prev.Ephemeral != op.Instance.Ephemeral {
			return Admission{}, naming.Errorf(naming.ErrConflict,
				"instance %s is registered as %s; deregister it before registering it as %s",
				prev.Key().ID(op.Service), className(prev.Ephemeral), className(op.Instance.Ephemeral))
		}
	}
	creates := op.Kind == naming.OpRegister || op.Instance != nil
	if cur != nil || !creates {
		return Admission{Op: op}, nil
	}
	switch mode {
	case naming.ModeCP:
		return Admission{}, naming.Errorf(naming.ErrNotFound,
			"service not found, namespace: %s, service: %s; create it first (server mode is CP)",
			op.Service.Namespace, op.Service.Grouped())
	case naming.ModeMixed:
		return Admission{Op: op, Create: &naming.Op{
			Kind: naming.OpCreateService, Time: op.Time, Service: op.Service,
			Meta: &naming.ServiceMeta{Implicit: true},
		}}, nil
	}
	return Admission{Op: op}, nil
}

// FixClass sets the consistency class of a deregister, update or set-health
// op from the stored instance, when there is one: clients often send the
// wrong ephemeral flag, and an op must go where the instance lives.
func FixClass(op naming.Op, cur *naming.Service) naming.Op {
	switch op.Kind {
	case naming.OpDeregister, naming.OpUpdateInstance, naming.OpSetHealth:
		if cur != nil {
			if in := cur.Find(op.Target); in != nil {
				op.Ephemeral = in.Ephemeral
			}
		}
	}
	return op
}

func className(ephemeral bool) string {
	if ephemeral {
		return "ephemeral"
	}
	return "persistent"
}
