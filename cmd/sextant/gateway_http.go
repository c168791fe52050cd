package main

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"sextant/httpfront"
	"sextant/naming"
)

// readOnly is the gateway's naming.Writer: every change is refused.
type readOnly struct{}

func (readOnly) Apply(context.Context, naming.Op) error {
	return naming.Errorf(naming.ErrForbidden, "the gateway is read-only")
}

func (readOnly) Owns(naming.ServiceKey) bool { return false }

// gatewayCluster is what the HTTP front learns of the "cluster": the
// gateway alone, always ready (stale data beats no data). addr is the
// front's address once it listens.
type gatewayCluster struct{ addr func() string }

func (c gatewayCluster) Members() []naming.Member {
	return []naming.Member{{Address: c.addr(), State: naming.MemberUp, Self: true}}
}
func (gatewayCluster) Ready() error                   { return nil }
func (gatewayCluster) Leader() string                 { return "" }
func (gatewayCluster) Owner(naming.ServiceKey) string { return "" }
func (gatewayCluster) Reads() httpfront.LeaderReads   { return nil }

// startHTTP serves the read-only Nacos API of the mirror, /gateway/status
// and /metrics, on the HTTP front's own listener (the hot routes answered
// natively, as on a node). Pushes to local subscribers are off: they poll
// at the cacheMillis the list carries.
func (g *gateway) startHTTP(ctx context.Context) error {
	fcfg := httpfront.DefaultConfig()
	fcfg.Addr = g.cfg.HTTPAddr
	fcfg.Push.Enabled = false
	fcfg.Extra = map[string]http.Handler{"/gateway/status": http.HandlerFunc(g.serveStatus)}
	g.instrument(&fcfg, g.logger.WithField("component", "metrics"))
	var front *httpfront.Server
	cl := gatewayCluster{addr: func() string { return front.Addr() }}
	front, err := httpfront.New(fcfg, g.mirror, readOnly{}, cl, g.logger.WithField("component", "http"))
	if err != nil {
		return err
	}
	if err := front.Start(ctx); err != nil {
		front.Close()
		return err
	}
	g.front = front
	return nil
}

// GatewayStatus is the JSON of GET /gateway/status.
type GatewayStatus struct {
	Servers []string `json:"servers"`
	// LastServerContact is when a server last answered (null: never).
	LastServerContact *time.Time `json:"lastServerContact"`
	// StaleSeconds is the time since then (since the start when never):
	// how old the data served may be. A gauge.
	StaleSeconds float64 `json:"staleSeconds"`
	Stale        bool    `json:"stale"`
	// Failover is true while a namespace's failover switch is on.
	Failover   bool               `json:"failover"`
	Namespaces []string           `json:"namespaces"`
	Services   []GatewayService   `json:"services"`
	Counters   GatewayCounterJSON `json:"counters"`
}

// GatewayService is one followed service in the status.
type GatewayService struct {
	Service   string `json:"service"`
	OnDemand  bool   `json:"onDemand"`
	Instances int    `json:"instances"`
	Serving   int    `json:"serving"`
}

// GatewayCounterJSON sums the clients' counters.
type GatewayCounterJSON struct {
	PushesReceived uint64 `json:"pushesReceived"`
	PushesApplied  uint64 `json:"pushesApplied"`
	Polls          uint64 `json:"polls"`
	PollFailures   uint64 `json:"pollFailures"`
}

func (g *gateway) status(now time.Time) GatewayStatus {
	last := g.lastContact()
	stale := g.staleness(now, last)
	st := GatewayStatus{Servers: g.cfg.Servers, StaleSeconds: stale.Seconds(), Stale: stale >= g.cfg.StaleWarnAfter,
		Namespaces: []string{}, Services: []GatewayService{}}
	if !last.IsZero() {
		st.LastServerContact = &last
	}
	g.mu.Lock()
	for ns, c := range g.clients {
		st.Namespaces = append(st.Namespaces, ns)
		s := c.Stats()
		st.Failover = st.Failover || s.Failover
		st.Counters.PushesReceived += s.PushesReceived
		st.Counters.PushesApplied += s.PushesApplied
		st.Counters.Polls += s.Polls
		st.Counters.PollFailures += s.PollFailures
		if len(st.Servers) == 0 {
			st.Servers = c.Servers()
		}
	}
	for key, f := range g.follows {
		gs := GatewayService{Service: key.String(), OnDemand: f.onDemand}
		if svc, ok := g.mirror.Service(key); ok {
			gs.Instances = len(svc.Instances)
			for _, in := range svc.Instances {
				if in.Serves() {
					gs.Serving++
				}
			}
		}
		st.Services = append(st.Services, gs)
	}
	g.mu.Unlock()
	sort.Strings(st.Namespaces)
	sort.Slice(st.Services, func(i, j int) bool { return st.Services[i].Service < st.Services[j].Service })
	return st
}

func (g *gateway) serveStatus(w http.ResponseWriter, r *http.Request) {
	b, err := json.Marshal(g.status(time.Now()))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
