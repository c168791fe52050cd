package naming

import (
	"net"
	"strconv"
)

// OpKind says what an Op does.
type OpKind uint8

// The operations that change the catalog.
const (
	OpRegister        OpKind = iota + 1 // add or replace an instance (Instance)
	OpDeregister                        // remove an instance (Target); absent is not an error
	OpUpdateInstance                    // change fields of an existing instance (Target, Patch)
	OpBeat                              // client beat (Target; Instance set for a full beat, which re-creates a missing instance)
	OpSetHealth                         // set health of an instance (Target, Healthy, Check)
	OpCreateService                     // create a service (Meta); ErrConflict if it exists
	OpUpdateService                     // replace a service's definition (Meta); ErrNotFound if absent
	OpDeleteService                     // delete an empty service
	OpUpdateCluster                     // set one cluster's configuration (Cluster)
	OpCreateNamespace                   // Namespace
	OpUpdateNamespace                   // Namespace
	OpDeleteNamespace                   // Namespace.ID
	OpSetSwitch                         // SwitchEntry = SwitchValue
	// OpReplaceEphemeral sets the whole ephemeral instance set of a service
	// (Instances) as replication received it from the service's responsible
	// node; persistent instances are untouched. A missing service is created
	// (implicit); an empty set on a service without persistent instances
	// leaves the service in place.
	OpReplaceEphemeral
	// Access control (User, Role, Permission; see auth.go). They are CP
	// data, stored and replicated like services.
	OpInitAuth         // create the first administrator (User) once; ErrConflict afterwards
	OpCreateUser       // User; ErrConflict if it exists
	OpUpdateUser       // replace a user's password hash (User)
	OpDeleteUser       // User.Name, with its role bindings
	OpAddRole          // Role
	OpDeleteRole       // Role (a blank Username removes every binding of the role)
	OpAddPermission    // Permission
	OpDeletePermission // Permission
	// OpMergeEphemeral merges replicated changes into a service's ephemeral
	// instances (Instances added or replaced, Removed dropped); see
	// ephemeral_merge.go.
	OpMergeEphemeral
)

var opNames = [...]string{"", "register", "deregister", "update-instance", "beat", "set-health",
	"create-service", "update-service", "delete-service", "update-cluster",
	"create-namespace", "update-namespace", "delete-namespace", "set-switch", "replace-ephemeral",
	"init-auth", "create-user", "update-user", "delete-user", "add-role", "delete-role",
	"add-permission", "delete-permission", "merge-ephemeral"}

func (k OpKind) String() string {
	if int(k) < len(opNames) && k > 0 {
		return opNames[k]
	}
	return "op(" + strconv.Itoa(int(k)) + ")"
}

// InstancePatch lists the fields of an instance to change; nil means keep.
type InstancePatch struct {
	Weight   *float64          `json:"weight,omitempty"`
	Enabled  *bool             `json:"enabled,omitempty"`
	Healthy  *bool             `json:"healthy,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Op is one change to the catalog. Every value Apply needs, including the
// time, travels in the Op, so applying the same Ops in the same order gives
// the same state on every node.
type Op struct {
	Kind OpKind `json:"kind"`
	// Time is the Unix time in milliseconds at which the accepting node took the op.
	Time int64 `json:"time"`
	// Service is the service the op concerns (all kinds but namespace and switch ops).
	Service ServiceKey `json:"service"`
	// Ephemeral says which consistency class an instance op belongs to.
	Ephemeral bool `json:"ephemeral,omitempty"`

	Instance *Instance `json:"instance,omitempty"`
	// Instances is the new ephemeral set of OpReplaceEphemeral.
	Instances []*Instance    `json:"instances,omitempty"`
	Target    InstanceKey    `json:"target,omitempty"`
	Patch     *InstancePatch `json:"patch,omitempty"`
	Healthy   bool           `json:"healthy,omitempty"`
	Check     *CheckResult   `json:"check,omitempty"`
	// ExpectBeat, when non-zero on OpSetHealth or OpDeregister, makes the op
	// a no-op unless the instance's last beat is still exactly this value. The
	// beat checker uses it so that a beat that arrives between its decision and
	// the op wins.
	ExpectBeat int64 `json:"expectBeat,omitempty"`

	// Removed lists the ephemeral instances OpMergeEphemeral drops.
	Removed []InstanceKey `json:"removed,omitempty"`

	Meta        *ServiceMeta   `json:"meta,omitempty"`
	Cluster     *ClusterConfig `json:"cluster,omitempty"`
	Namespace   *Namespace     `json:"namespace,omitempty"`
	SwitchEntry string         `json:"switchEntry,omitempty"`
	SwitchValue string         `json:"switchValue,omitempty"`

	// Access-control ops (OpKind.IsAuth).
	User       *User        `json:"user,omitempty"`
	Role       *RoleBinding `json:"roleBinding,omitempty"`
	Permission *Permission  `json:"permission,omitempty"`
}

// IsInstanceOp reports whether the op changes one instance.
func (op *Op) IsInstanceOp() bool {
	switch op.Kind {
	case OpRegister, OpDeregister, OpUpdateInstance, OpBeat, OpSetHealth:
		return true
	}
	return false
}

// IsEphemeral reports whether the op belongs to the AP class (ephemeral
// instance data); every other op is CP data (persistent instances, services,
// namespaces, switches).
func (op *Op) IsEphemeral() bool {
	switch op.Kind {
	case OpRegister:
		return op.Instance != nil && op.Instance.Ephemeral
	case OpBeat, OpReplaceEphemeral, OpMergeEphemeral:
		return true
	case OpDeregister, OpUpdateInstance, OpSetHealth:
		return op.Ephemeral
	}
	return false
}

// Limits on what one instance may carry.
const (
	MaxWeight        = 10000
	MaxMetadataBytes = 64 << 10
	MaxMetadataKeys  = 256
)

// Validate checks the op's own fields; it does not look at the catalog.
func (op *Op) Validate() error {
	if op.Kind.IsAuth() {
		return validateAuthOp(op)
	}
	switch op.Kind {
	case OpCreateNamespace, OpUpdateNamespace, OpDeleteNamespace:
		if op.Namespace == nil {
			return Errorf(ErrInvalid, "Param 'namespaceId' is required.")
		}
		return ValidateNamespaceID(op.Namespace.ID)
	case OpSetSwitch:
		s := DefaultSwitches()
		return s.Set(op.SwitchEntry, op.SwitchValue)
	}
	if err := op.Service.Validate(); err != nil {
		return err
	}
	switch op.Kind {
	case OpRegister:
		if op.Instance == nil {
			return Errorf(ErrInvalid, "instance is required")
		}
		if err := ValidateInstance(op.Instance); err != nil {
			return err
		}
	case OpBeat:
		if op.Instance != nil {
			if err := ValidateInstance(op.Instance); err != nil {
				return err
			}
		}
		return validateTarget(op.Target)
	case OpDeregister, OpSetHealth:
		return validateTarget(op.Target)
	case OpUpdateInstance:
		if op.Patch == nil {
			return Errorf(ErrInvalid, "nothing to update")
		}
		if w := op.Patch.Weight; w != nil && (*w < 0 || *w > MaxWeight || *w != *w) {
			return Errorf(ErrInvalid, "instance format invalid: The weights range from 0.0 to 10000.0")
		}
		if err := validateMetadata(op.Patch.Metadata); err != nil {
			return err
		}
		return validateTarget(op.Target)
	case OpCreateService, OpUpdateService:
		if op.Meta == nil {
			return Errorf(ErrInvalid, "service definition is required")
		}
		if t := op.Meta.ProtectThreshold; t < 0 || t > 1 || t != t {
			return Errorf(ErrInvalid, "Param 'protectThreshold' must be between 0 and 1")
		}
		return validateMetadata(op.Meta.Metadata)
	case OpUpdateCluster:
		if op.Cluster == nil {
			return Errorf(ErrInvalid, "cluster is required")
		}
		return validateCluster(op.Cluster)
	case OpReplaceEphemeral:
		for _, in := range op.Instances {
			if err := ValidateInstance(in); err != nil {
				return err
			}
		}
	case OpMergeEphemeral:
		return validateMerge(op)
	case OpDeleteService:
	default:
		return Errorf(ErrInvalid, "unknown operation %d", op.Kind)
	}
	return nil
}

// ValidateInstance checks an instance's fields as Nacos does.
func ValidateInstance(in *Instance) error {
	if err := validateTarget(in.Key()); err != nil {
		return err
	}
	if in.Weight < 0 || in.Weight > MaxWeight || in.Weight != in.Weight {
		return Errorf(ErrInvalid, "instance format invalid: The weights range from 0.0 to 10000.0")
	}
	return validateMetadata(in.Metadata)
}

func validateTarget(k InstanceKey) error {
	if k.IP == "" {
		return Errorf(ErrInvalid, "Param 'ip' is required.")
	}
	if net.ParseIP(k.IP) == nil {
		return Errorf(ErrInvalid, "instance format invalid: illegal ip %q, it must be an IPv4 or IPv6 address", k.IP)
	}
	if k.Port < 0 || k.Port > 65535 {
		return Errorf(ErrInvalid, "instance format invalid: illegal port %d, it must be between 0 and 65535", k.Port)
	}
	return ValidateClusterName(k.Cluster)
}

// ValidateClusterName accepts the cluster names Nacos 2 accepts: letters,
// digits, '-', '.', and '_'.
func ValidateClusterName(c string) error {
	if c == "" || len(c) > 64 {
		return Errorf(ErrInvalid, "Param 'clusterName' is illegal: %q", c)
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '.' || b == '_') {
			return Errorf(ErrInvalid, "Param 'clusterName' is illegal, it may hold only letters, digits, '-', '.' and '_': %q", c)
		}
	}
	return nil
}

// ValidateNamespaceID accepts ids of letters, digits, '-' and '_' up to 128 bytes.
func ValidateNamespaceID(id string) error {
	if id == "" || len(id) > 128 {
		return Errorf(ErrInvalid, "Param 'namespaceId' is illegal: %q", id)
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
			return Errorf(ErrInvalid, "Param 'namespaceId' is illegal, it may hold only letters, digits, '-' and '_': %q", id)
		}
	}
	return nil
}

func validateMetadata(md map[string]string) error {
	if len(md) > MaxMetadataKeys {
		return Errorf(ErrTooLarge, "metadata has %d keys, at most %d are allowed", len(md), MaxMetadataKeys)
	}
	n := 0
	for k, v := range md {
		n += len(k) + len(v)
	}
	if n > MaxMetadataBytes {
		return Errorf(ErrTooLarge, "metadata is %d bytes, at most %d are allowed", n, MaxMetadataBytes)
	}
	return nil
}

func validateCluster(c *ClusterConfig) error {
	if err := ValidateClusterName(c.Name); err != nil {
		return err
	}
	switch c.HealthChecker.Type {
	case "TCP", "HTTP", "NONE":
	default:
		return Errorf(ErrInvalid, "health checker type must be TCP, HTTP or NONE, got %q", c.HealthChecker.Type)
	}
	if c.CheckPort < 0 || c.CheckPort > 65535 {
		return Errorf(ErrInvalid, "Param 'checkPort' is illegal: %d", c.CheckPort)
	}
	if err := validateChecker(c.HealthChecker); err != nil {
		return err
	}
	if err := c.Check.Validate(); err != nil {
		return err
	}
	return validateMetadata(c.Metadata)
}
