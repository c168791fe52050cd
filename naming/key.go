package naming

import (
	"strconv"
	"strings"
)

// Defaults of the Nacos model.
const (
	DefaultNamespace = "public"
	DefaultGroup     = "DEFAULT_GROUP"
	DefaultCluster   = "DEFAULT"
	// GroupSeparator joins a group and a service name ("group@@service").
	GroupSeparator = "@@"
)

// ServiceKey names one service: namespace, group and bare service name.
type ServiceKey struct {
	Namespace string
	Group     string
	Name      string
}

// NewServiceKey builds a key from request-style parts: a blank namespace is
// "public", a name of the form "group@@service" carries its own group, and a
// blank group is DEFAULT_GROUP.
func NewServiceKey(namespace, group, name string) ServiceKey {
	namespace = strings.TrimSpace(namespace)
	if namespace == "" {
		namespace = DefaultNamespace
	}
	name = strings.TrimSpace(name)
	if i := strings.Index(name, GroupSeparator); i >= 0 {
		group, name = name[:i], name[i+len(GroupSeparator):]
	}
	group = strings.TrimSpace(group)
	if group == "" {
		group = DefaultGroup
	}
	return ServiceKey{Namespace: namespace, Group: group, Name: name}
}

// Grouped returns "group@@service", the name Nacos clients use.
func (k ServiceKey) Grouped() string { return k.Group + GroupSeparator + k.Name }

// String returns "namespace/group@@service", for logs.
func (k ServiceKey) String() string { return k.Namespace + "/" + k.Grouped() }

// Validate checks that the key names a service a Nacos client could address.
func (k ServiceKey) Validate() error {
	switch {
	case k.Name == "":
		return Errorf(ErrInvalid, "Param 'serviceName' is required.")
	case strings.Contains(k.Name, GroupSeparator) || strings.Contains(k.Group, GroupSeparator):
		return Errorf(ErrInvalid, "Param 'serviceName' is illegal, it should be format as 'groupName@@serviceName'")
	case len(k.Name) > 512 || len(k.Group) > 128 || len(k.Namespace) > 128:
		return Errorf(ErrInvalid, "Param 'serviceName' is illegal, too long")
	case !printable(k.Name) || !printable(k.Group) || !printable(k.Namespace):
		return Errorf(ErrInvalid, "Param 'serviceName' is illegal, it contains control characters")
	}
	return nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// InstanceKey names one instance inside a service.
type InstanceKey struct {
	IP      string
	Port    int
	Cluster string
}

// ID returns the Nacos instance id "ip#port#cluster#group@@service".
func (ik InstanceKey) ID(svc ServiceKey) string {
	return ik.IP + "#" + strconv.Itoa(ik.Port) + "#" + ik.Cluster + "#" + svc.Grouped()
}

// Addr returns "ip:port".
func (ik InstanceKey) Addr() string {
	if strings.Contains(ik.IP, ":") {
		return "[" + ik.IP + "]:" + strconv.Itoa(ik.Port)
	}
	return ik.IP + ":" + strconv.Itoa(ik.Port)
}
