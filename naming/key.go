package naming

import (
	"bytes"
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

// AppendID appends ik.ID(svc) to b.
func (ik InstanceKey) AppendID(b []byte, svc ServiceKey) []byte {
	b = append(b, ik.IP...)
	b = append(b, '#')
	b = strconv.AppendInt(b, int64(ik.Port), 10)
	b = append(b, '#')
	b = append(b, ik.Cluster...)
	b = append(b, '#')
	b = append(b, svc.Group...)
	b = append(b, GroupSeparator...)
	return append(b, svc.Name...)
}

// CompareKeys orders the instances of one service as their IDs order, as
// strings, without building them. The IDs of one service differ only in
// "ip#port#cluster", and valid addresses, ports and cluster names hold
// only bytes above '#', so the IDs compare as the address, the port in
// decimal and the cluster name do, one after the other. (For keys that
// break those rules it is still a total order, only not the IDs' one.)
func CompareKeys(a, b InstanceKey) int {
	return compareKey(a.IP, a.Port, a.Cluster, b)
}

// compareKey is CompareKeys of the key (ip, port, cluster) and b.
func compareKey(ip string, port int, cluster string, b InstanceKey) int {
	if c := strings.Compare(ip, b.IP); c != 0 {
		return c
	}
	if port != b.Port {
		return comparePorts(port, b.Port)
	}
	return strings.Compare(cluster, b.Cluster)
}

// comparePorts compares two different ports as their decimal strings do.
// For ports (and other numbers below 10^15) the shorter number, scaled to
// the length of the other, decides; a tie means it is a prefix of the
// other, so the shorter.
func comparePorts(a, b int) int {
	const most = 1e15
	if a < 0 || b < 0 || a >= most || b >= most {
		var ab, bb [20]byte
		return bytes.Compare(strconv.AppendInt(ab[:0], int64(a), 10), strconv.AppendInt(bb[:0], int64(b), 10))
	}
	sa, sb, shorter := a, b, 0
	for la, lb := decimalLen(a), decimalLen(b); la != lb; {
		if la < lb {
			sa, la, shorter = sa*10, la+1, -1
		} else {
			sb, lb, shorter = sb*10, lb+1, 1
		}
	}
	switch {
	case sa < sb:
		return -1
	case sa > sb:
		return 1
	}
	return shorter
}

// decimalLen is the number of decimal digits of n ≥ 0.
func decimalLen(n int) int {
	l := 1
	for ; n >= 10; n /= 10 {
		l++
	}
	return l
}

// Addr returns "ip:port".
func (ik InstanceKey) Addr() string {
	if strings.Contains(ik.IP, ":") {
		return "[" + ik.IP + "]:" + strconv.Itoa(ik.Port)
	}
	return ik.IP + ":" + strconv.Itoa(ik.Port)
}
