package httpfront

import (
	"net"
	"sort"
	"strconv"
	"time"

	"sextant/nacoswire"
	"sextant/naming"
)

// emptyIfNil keeps metadata a JSON object: clients unmarshal it into
// map[string]string and must never see null.
func emptyIfNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// hostJSON is one instance as instance/list and the catalog show it.
type hostJSON struct {
	nacoswire.Instance
	Valid  bool `json:"valid"`
	Marked bool `json:"marked"`
	nacoswire.Timings
}

// hostOf renders an instance of service key; healthy overrides its health
// (the protect threshold presents every host as healthy) and serviceName
// is the bare or grouped name the client expects.
func hostOf(in *naming.Instance, key naming.ServiceKey, serviceName string, healthy bool) hostJSON {
	t := naming.TimingsOf(in.Metadata)
	return hostJSON{
		Instance: nacoswire.Instance{
			InstanceID:  in.Key().ID(key),
			IP:          in.IP,
			Port:        in.Port,
			Weight:      in.Weight,
			Healthy:     healthy,
			Enabled:     in.Enabled,
			Ephemeral:   in.Ephemeral,
			ClusterName: in.Cluster,
			ServiceName: serviceName,
			Metadata:    emptyIfNil(in.Metadata),
		},
		Valid:   healthy,
		Timings: nacoswire.NewTimings(t.Interval, t.Timeout, t.Delete),
	}
}

// instanceJSON is an instance in full, as the console catalog shows it.
type instanceJSON struct {
	hostJSON
	LastBeat int64              `json:"lastBeat"`
	Check    naming.CheckResult `json:"check"`
}

func instanceOf(in *naming.Instance, key naming.ServiceKey) instanceJSON {
	return instanceJSON{hostJSON: hostOf(in, key, key.Grouped(), in.Healthy), LastBeat: in.LastBeat(), Check: in.Check}
}

// clusterJSON is one cluster of a service.
type clusterJSON struct {
	Name             string               `json:"name"`
	ServiceName      string               `json:"serviceName"`
	HealthChecker    naming.HealthChecker `json:"healthChecker"`
	DefaultPort      int                  `json:"defaultPort"`
	DefaultCheckPort int                  `json:"defaultCheckPort"`
	UseIPPort4Check  bool                 `json:"useIPPort4Check"`
	Metadata         map[string]string    `json:"metadata"`
	// Probe settings of PUT /cluster, in milliseconds and counts; absent
	// when the cluster inherits them.
	CheckInterval      int64 `json:"checkInterval,omitempty"`
	CheckTimeout       int64 `json:"checkTimeout,omitempty"`
	UnhealthyThreshold int   `json:"unhealthyThreshold,omitempty"`
	HealthyThreshold   int   `json:"healthyThreshold,omitempty"`
}

// clustersOf lists a service's clusters: the configured ones and those its
// instances are in, sorted by name.
func clustersOf(svc *naming.Service) []clusterJSON {
	names := map[string]bool{}
	for n := range svc.Meta.Clusters {
		names[n] = true
	}
	for _, in := range svc.Instances {
		names[in.Cluster] = true
	}
	out := make([]clusterJSON, 0, len(names))
	for n := range names {
		cc := svc.Meta.Cluster(n)
		out = append(out, clusterJSON{
			Name:             n,
			ServiceName:      svc.Key.Grouped(),
			HealthChecker:    cc.HealthChecker,
			DefaultPort:      80,
			DefaultCheckPort: cc.CheckPort,
			UseIPPort4Check:  cc.UseInstancePortToCheck,
			Metadata:         emptyIfNil(cc.Metadata),

			CheckInterval:      cc.Check.IntervalMillis,
			CheckTimeout:       cc.Check.TimeoutMillis,
			UnhealthyThreshold: cc.Check.UnhealthyThreshold,
			HealthyThreshold:   cc.Check.HealthyThreshold,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// hasCluster reports whether a service has the named cluster.
func hasCluster(svc *naming.Service, name string) bool {
	if _, ok := svc.Meta.Clusters[name]; ok {
		return true
	}
	for _, in := range svc.Instances {
		if in.Cluster == name {
			return true
		}
	}
	return false
}

func selectorOf(m naming.ServiceMeta) naming.Selector {
	if m.Selector.Type == "" {
		return naming.Selector{Type: "none"}
	}
	return m.Selector
}

// memberJSON is a cluster member as Nacos's Member bean.
type memberJSON struct {
	IP            string         `json:"ip"`
	Port          int            `json:"port"`
	State         string         `json:"state"`
	Address       string         `json:"address"`
	FailAccessCnt int            `json:"failAccessCnt"`
	ExtendInfo    map[string]any `json:"extendInfo"`
}

func memberOf(m naming.Member) memberJSON {
	host, port := m.Address, 8848
	if h, p, err := net.SplitHostPort(m.Address); err == nil {
		host = h
		if n, err := strconv.Atoi(p); err == nil {
			port = n
		}
	}
	return memberJSON{
		IP:            host,
		Port:          port,
		State:         m.State,
		Address:       m.Address,
		FailAccessCnt: m.FailCount,
		ExtendInfo: map[string]any{
			"raftRole":        m.RaftRole,
			"lastRefreshTime": m.LastSeen,
			"self":            m.Self,
		},
	}
}

// nowMillis is the server time Nacos puts in lastRefTime.
func nowMillis() int64 { return time.Now().UnixMilli() }
