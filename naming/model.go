package naming

import (
	"iter"
	"slices"
	"sync"
	"sync/atomic"
)

// Instance is one registered endpoint of a service. Values reached through a
// *Service are immutable; copy before changing. The catalog shares one
// Metadata map between instances whose metadata are equal, so a map read
// from the catalog must never be written to: build a new one.
type Instance struct {
	IP        string            `json:"ip"`
	Port      int               `json:"port"`
	Cluster   string            `json:"clusterName"`
	Weight    float64           `json:"weight"`
	Healthy   bool              `json:"healthy"`
	Enabled   bool              `json:"enabled"`
	Ephemeral bool              `json:"ephemeral"`
	Metadata  map[string]string `json:"metadata"`
	// ID is the Nacos instance id as a message carried it. The catalog
	// does not keep it (a million instances would hold a million strings
	// that their keys and services determine): on the views it publishes
	// it is empty, and readers derive it with Key().ID(service) or
	// Key().AppendID. PersistentState fills it, so snapshots carry it.
	ID string `json:"instanceId"`
	// Updated is the Op.Time of the last change to this instance (not beats
	// that leave it as it was). Replication uses it to let the newest write win.
	Updated int64 `json:"updated"`
	// Check is the result of the last server-side probe (persistent instances).
	Check CheckResult `json:"check"`

	// beat holds the time of the last client beat in Unix milliseconds. It is
	// shared by every view of the same registration, so a beat updates it in
	// place without building a new view.
	beat *atomic.Int64
	// owned is set once the catalog has made the instance's strings and
	// metadata its own (see sharedMaps.own).
	owned bool
}

// CheckResult is what the last server-side health probe found.
type CheckResult struct {
	// Time of the probe, Unix milliseconds; 0 when never probed.
	Time int64 `json:"time"`
	// Reason for the current state, e.g. "connection refused" or "HTTP 500".
	Reason string `json:"reason,omitempty"`
}

// Key returns the instance's key inside its service.
func (in *Instance) Key() InstanceKey {
	return InstanceKey{IP: in.IP, Port: in.Port, Cluster: in.Cluster}
}

// LastBeat returns the time of the last beat (or registration) in Unix
// milliseconds; 0 for instances that never had one.
func (in *Instance) LastBeat() int64 {
	if in.beat == nil {
		return 0
	}
	return in.beat.Load()
}

// Serves reports whether the instance should receive traffic: healthy,
// enabled and of positive weight.
func (in *Instance) Serves() bool { return in.Healthy && in.Enabled && in.Weight > 0 }

// clone returns a copy that shares the beat cell and metadata map (both
// treated as immutable / atomically updated).
func (in *Instance) clone() *Instance {
	c := *in
	c.owned = false // the copy is about to change
	return &c
}

// Selector is a Nacos service selector ({"type":"none"} or a label expression).
type Selector struct {
	Type       string `json:"type"`
	Expression string `json:"expression,omitempty"`
}

// HealthChecker configures server-side probes of persistent instances in one cluster.
type HealthChecker struct {
	// Type is TCP (default), HTTP or NONE.
	Type string `json:"type"`
	// Path, Headers ("k1:v1|k2:v2") and ExpectedCodes apply to HTTP checks.
	Path          string `json:"path,omitempty"`
	Headers       string `json:"headers,omitempty"`
	ExpectedCodes string `json:"expectedResponseCode,omitempty"`
}

// ClusterConfig is the per-cluster part of a service definition.
type ClusterConfig struct {
	Name                   string            `json:"name"`
	HealthChecker          HealthChecker     `json:"healthChecker"`
	CheckPort              int               `json:"defaultCheckPort"`
	UseInstancePortToCheck bool              `json:"useIPPort4Check"`
	Metadata               map[string]string `json:"metadata"`
	// Check holds the probe timing and thresholds of the cluster; zero
	// fields inherit (see CheckSettings).
	Check CheckSettings `json:"check,omitzero"`
}

// ServiceMeta is the stored definition of a service, apart from its instances.
type ServiceMeta struct {
	ProtectThreshold float64                  `json:"protectThreshold"`
	Metadata         map[string]string        `json:"metadata"`
	Selector         Selector                 `json:"selector"`
	Clusters         map[string]ClusterConfig `json:"clusters"`
	// Implicit is true for a service created by a registration rather than by
	// an explicit create.
	Implicit bool `json:"implicit"`
}

// Cluster returns the configuration of the named cluster, with defaults for
// clusters that were never configured.
func (m *ServiceMeta) Cluster(name string) ClusterConfig {
	if c, ok := m.Clusters[name]; ok {
		return c
	}
	return ClusterConfig{Name: name, HealthChecker: HealthChecker{Type: "TCP"}, CheckPort: 80, UseInstancePortToCheck: true}
}

// Service is an immutable view of one service: its definition and its
// instances, sorted by instance id.
type Service struct {
	Key  ServiceKey
	Meta ServiceMeta
	// Instances, sorted by ID. Never modified after the view is published.
	// On a view the Catalog published, the slice is built from the view's
	// instance tree on the first read through the Catalog (Service,
	// Services) or a method of the view; All and Len read the tree without
	// building it.
	Instances []*Instance
	// Revision increases with every change to this service.
	Revision uint64
	// Modified is the time of the last change in Unix milliseconds (Nacos lastRefTime).
	Modified int64
	// Checksum is an MD5 hex digest of the visible content.
	Checksum string
	// EphemeralChecksum digests only the ephemeral instances (what Distro replicates).
	EphemeralChecksum string
	// Durable is set when the service's record is CP data: CP ops (an
	// explicit create, a persistent registration) set it, and only CP ops
	// clear it. A service that ephemeral ops alone created (Distro's
	// replication, an AP-mode registration) is not durable: CP ops treat it
	// as absent, snapshots leave it out and restores keep it. See durable.go.
	Durable bool

	// sums are the instance digests both checksums derive from.
	sums serviceSums
	// tree holds the instances of a view the Catalog published, sorted by
	// ID (compared by key, see CompareKeys), so Find can search instead of
	// scanning. Nil on views built by hand and on published views without
	// instances.
	tree *tnode
	// lazy builds Instances from tree once, on the first read.
	lazy *lazyList
}

type lazyList struct{ once sync.Once }

// materialize fills Instances from the tree on a published view, once;
// every read of Instances goes through it first. It returns s.
func (s *Service) materialize() *Service {
	if s.lazy != nil && s.tree != nil {
		s.lazy.once.Do(func() {
			if s.tree.leaf() {
				s.Instances = slices.Clip(s.tree.items) // immutable, as the list is
				return
			}
			s.Instances = s.tree.appendTo(make([]*Instance, 0, s.tree.n))
		})
	}
	return s
}

// Len returns the number of instances without building the list.
func (s *Service) Len() int {
	if s.tree != nil {
		return s.tree.n
	}
	if s.lazy != nil {
		return 0
	}
	return len(s.Instances)
}

// PersistentLen returns the number of persistent (non-ephemeral)
// instances without reading them: on a view the Catalog published, it is
// kept with the view's digests, so a reader that only cares about
// persistent instances can pass over a service that has none.
func (s *Service) PersistentLen() int {
	s.computeSums(nil)
	return s.sums.persistent
}

// All yields the instances in order (by ID on published views) without
// building the list: a published view walks its tree's leaves.
func (s *Service) All() iter.Seq[*Instance] {
	return func(yield func(*Instance) bool) {
		if s.lazy != nil {
			s.tree.each(yield)
			return
		}
		for _, in := range s.Instances {
			if !yield(in) {
				return
			}
		}
	}
}

// Find returns the instance with the given key, or nil. On views the
// Catalog published it is a binary search; a Service built by hand may hold
// its instances in any order and is scanned.
func (s *Service) Find(k InstanceKey) *Instance {
	if s.lazy != nil {
		return s.tree.get(k)
	}
	for _, in := range s.Instances {
		if in.Port == k.Port && in.IP == k.IP && in.Cluster == k.Cluster {
			return in
		}
	}
	return nil
}

// Namespace is a Nacos namespace.
type Namespace struct {
	ID          string `json:"namespace"`
	Name        string `json:"namespaceShowName"`
	Description string `json:"namespaceDesc"`
	Quota       int    `json:"quota"`
}
