package nacoswire

import "time"

// Defaults of the Nacos model.
const (
	DefaultGroup   = "DEFAULT_GROUP"
	DefaultCluster = "DEFAULT"
	// GroupSep joins a group and a service name: "group@@service".
	GroupSep = "@@"
)

// Instance is one endpoint of a service as instance/list, gRPC answers and
// the catalog carry it: the fields every Nacos instance has, in the order
// Nacos writes them.
type Instance struct {
	InstanceID  string            `json:"instanceId"`
	IP          string            `json:"ip"`
	Port        int               `json:"port"`
	Weight      float64           `json:"weight"`
	Healthy     bool              `json:"healthy"`
	Enabled     bool              `json:"enabled"`
	Ephemeral   bool              `json:"ephemeral"`
	ClusterName string            `json:"clusterName"`
	ServiceName string            `json:"serviceName"`
	Metadata    map[string]string `json:"metadata"`
}

// InstanceIn is an instance as a sender may write it: the flags and the
// weight may be left out, and Resolve fills them in.
type InstanceIn struct {
	InstanceID  string            `json:"instanceId"`
	IP          string            `json:"ip"`
	Port        int               `json:"port"`
	Weight      *float64          `json:"weight"`
	Healthy     *bool             `json:"healthy"`
	Enabled     *bool             `json:"enabled"`
	Ephemeral   *bool             `json:"ephemeral"`
	ClusterName string            `json:"clusterName"`
	ServiceName string            `json:"serviceName"`
	Metadata    map[string]string `json:"metadata"`
}

// Resolve applies the Nacos defaults to what was left out: weight 1;
// healthy, enabled and ephemeral true; an empty clusterName is DEFAULT.
// Metadata is passed on as it is (nil when absent).
func (w *InstanceIn) Resolve() Instance {
	in := Instance{InstanceID: w.InstanceID, IP: w.IP, Port: w.Port, Weight: 1, Healthy: true, Enabled: true,
		Ephemeral: true, ClusterName: w.ClusterName, ServiceName: w.ServiceName, Metadata: w.Metadata}
	if w.Weight != nil {
		in.Weight = *w.Weight
	}
	if w.Healthy != nil {
		in.Healthy = *w.Healthy
	}
	if w.Enabled != nil {
		in.Enabled = *w.Enabled
	}
	if w.Ephemeral != nil {
		in.Ephemeral = *w.Ephemeral
	}
	if in.ClusterName == "" {
		in.ClusterName = DefaultCluster
	}
	return in
}

// Timings are the beat settings a listed host carries after its other
// fields, in milliseconds.
type Timings struct {
	InstanceHeartBeatInterval int64 `json:"instanceHeartBeatInterval"`
	InstanceHeartBeatTimeOut  int64 `json:"instanceHeartBeatTimeOut"`
	IPDeleteTimeout           int64 `json:"ipDeleteTimeout"`
}

// NewTimings gives the timing fields of the three beat settings.
func NewTimings(interval, timeout, deleteAfter time.Duration) Timings {
	return Timings{interval.Milliseconds(), timeout.Milliseconds(), deleteAfter.Milliseconds()}
}
