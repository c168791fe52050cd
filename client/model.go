package client

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"sextant/nacoswire"
)

// Defaults of the Nacos model.
const (
	DefaultGroup   = nacoswire.DefaultGroup
	DefaultCluster = nacoswire.DefaultCluster
	groupSep       = nacoswire.GroupSep
)

// Instance is one endpoint of a service as instance/list returns it.
// Values handed out by the client are shared: do not modify Metadata.
type Instance nacoswire.Instance

// UnmarshalJSON reads an instance leniently, so that hand-written failover
// files stay short: a missing healthy or enabled is true, a missing weight
// is 1, a missing ephemeral is true, a missing clusterName is DEFAULT.
func (in *Instance) UnmarshalJSON(b []byte) error {
	var w nacoswire.InstanceIn
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*in = Instance(w.Resolve())
	return nil
}

// Serves reports whether the instance should get traffic: healthy, enabled
// and of positive weight.
func (in *Instance) Serves() bool { return in.Healthy && in.Enabled && in.Weight > 0 }

// Addr returns "ip:port".
func (in *Instance) Addr() string {
	if strings.Contains(in.IP, ":") {
		return "[" + in.IP + "]:" + strconv.Itoa(in.Port)
	}
	return in.IP + ":" + strconv.Itoa(in.Port)
}

// Service is one service's instance list, the body of instance/list and
// the content of snapshot and failover files.
type Service struct {
	// Name is the grouped name, "group@@service".
	Name string `json:"name"`
	// Clusters is the cluster filter the list was asked with ("" = all).
	Clusters    string            `json:"clusters"`
	CacheMillis int64             `json:"cacheMillis"`
	Hosts       []Instance        `json:"hosts"`
	LastRefTime int64             `json:"lastRefTime"`
	Checksum    string            `json:"checksum"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	// ReachProtectionThreshold: the server listed unhealthy instances as
	// healthy because too few were healthy.
	ReachProtectionThreshold bool `json:"reachProtectionThreshold,omitempty"`
}

// GroupName returns the group part of Name.
func (s *Service) GroupName() string {
	g, _ := splitGrouped(s.Name)
	return g
}

// ServiceName returns the service part of Name.
func (s *Service) ServiceName() string {
	_, n := splitGrouped(s.Name)
	return n
}

// parseService decodes a service document; the name may be bare (with a
// groupName field, else DEFAULT_GROUP) and is returned grouped.
func parseService(b []byte) (Service, error) {
	var s Service
	if err := json.Unmarshal(b, &s); err != nil {
		return Service{}, err
	}
	if !strings.Contains(s.Name, groupSep) {
		var g struct {
			GroupName string `json:"groupName"`
		}
		_ = json.Unmarshal(b, &g)
		if g.GroupName == "" {
			g.GroupName = DefaultGroup
		}
		if s.Name != "" {
			s.Name = g.GroupName + groupSep + s.Name
		}
	}
	if s.Name == "" {
		return Service{}, errors.New("service has no name")
	}
	if s.Hosts == nil {
		s.Hosts = []Instance{}
	}
	return s, nil
}

func splitGrouped(name string) (group, svc string) {
	if i := strings.Index(name, groupSep); i >= 0 {
		return name[:i], name[i+len(groupSep):]
	}
	return DefaultGroup, name
}

// ServiceRef names a service to read: its name, group (default
// DEFAULT_GROUP) and an optional cluster filter (empty: all clusters).
type ServiceRef struct {
	ServiceName string
	GroupName   string
	Clusters    []string
}

// grouped returns "group@@name" and validates the parts.
func groupedName(service, group string) (string, error) {
	service, group = strings.TrimSpace(service), strings.TrimSpace(group)
	if i := strings.Index(service, groupSep); i >= 0 {
		group, service = service[:i], service[i+len(groupSep):]
	}
	if group == "" {
		group = DefaultGroup
	}
	switch {
	case service == "":
		return "", errors.New("client: service name is required")
	case strings.Contains(service, groupSep) || strings.Contains(group, groupSep):
		return "", fmt.Errorf("client: service name %q: '@@' may appear once, between group and name", service)
	case strings.ContainsAny(service+group, "\x00/\\\n\r"):
		return "", fmt.Errorf("client: service name %q holds a character that is not allowed", service)
	}
	return group + groupSep + service, nil
}

// key returns the cache key "group@@name" or "group@@name@@c1,c2" (the
// clusters sorted) and the clusters parameter.
func (r ServiceRef) key() (key, grouped, clusters string, err error) {
	grouped, err = groupedName(r.ServiceName, r.GroupName)
	if err != nil {
		return "", "", "", err
	}
	cs := make([]string, 0, len(r.Clusters))
	for _, c := range r.Clusters {
		if c = strings.TrimSpace(c); c != "" {
			if strings.ContainsAny(c, ",@/") {
				return "", "", "", fmt.Errorf("client: cluster name %q is not allowed", c)
			}
			cs = append(cs, c)
		}
	}
	sort.Strings(cs)
	clusters = strings.Join(cs, ",")
	return cacheKey(grouped, clusters), grouped, clusters, nil
}

func cacheKey(grouped, clusters string) string {
	if clusters == "" {
		return grouped
	}
	return grouped + groupSep + clusters
}

// refOfKey turns a cache key back into a ServiceRef.
func refOfKey(key string) ServiceRef {
	parts := strings.SplitN(key, groupSep, 3)
	r := ServiceRef{GroupName: parts[0]}
	if len(parts) > 1 {
		r.ServiceName = parts[1]
	}
	if len(parts) > 2 && parts[2] != "" {
		r.Clusters = strings.Split(parts[2], ",")
	}
	return r
}

// digest summarises what readers of a service see, hosts in any order.
func digest(s *Service) string {
	if s == nil {
		return ""
	}
	hosts := make([]*Instance, len(s.Hosts))
	for i := range s.Hosts {
		hosts[i] = &s.Hosts[i]
	}
	sort.Slice(hosts, func(i, j int) bool {
		a, b := hosts[i], hosts[j]
		if a.IP != b.IP {
			return a.IP < b.IP
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		return a.ClusterName < b.ClusterName
	})
	h := md5.New()
	var b []byte
	for _, in := range hosts {
		b = append(b[:0], in.IP...)
		b = append(b, '|')
		b = strconv.AppendInt(b, int64(in.Port), 10)
		b = append(b, '|')
		b = append(b, in.ClusterName...)
		b = append(b, '|')
		b = strconv.AppendFloat(b, in.Weight, 'g', -1, 64)
		b = strconv.AppendBool(b, in.Healthy)
		b = strconv.AppendBool(b, in.Enabled)
		b = strconv.AppendBool(b, in.Ephemeral)
		keys := make([]string, 0, len(in.Metadata))
		for k := range in.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b = append(b, k...)
			b = append(b, '=')
			b = append(b, in.Metadata[k]...)
			b = append(b, ',')
		}
		b = append(b, '\n')
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// RegisterParam describes an instance to register or update. The zero
// values are the usual choices: ephemeral (kept alive by beats), enabled,
// healthy, weight 1, cluster DEFAULT, group DEFAULT_GROUP.
type RegisterParam struct {
	ServiceName string
	GroupName   string
	ClusterName string
	IP          string
	Port        int
	// Weight in (0, 10000]; 0 means 1. To take an instance out of
	// traffic, set Disabled.
	Weight   float64
	Metadata map[string]string
	// Persistent registers an instance the server keeps and checks itself
	// (no beats).
	Persistent bool
	Disabled   bool
	// Unhealthy registers the instance as unhealthy (persistent instances
	// whose server checks are off).
	Unhealthy bool
}

// DeregisterParam names an instance to remove.
type DeregisterParam struct {
	ServiceName string
	GroupName   string
	ClusterName string
	IP          string
	Port        int
	Persistent  bool
}

// instanceKey identifies a registered instance within the client.
func instanceKey(grouped, cluster, ip string, port int) string {
	return grouped + "#" + cluster + "#" + ip + "#" + strconv.Itoa(port)
}
