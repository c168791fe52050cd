package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
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
// gateway alone, always ready (stale data beats no data).
type gatewayCluster struct{ addr string }

func (c gatewayCluster) Members() []naming.Member {
	return []naming.Member{{Address: c.addr, State: naming.MemberUp, Self: true}}
}
func (gatewayCluster) Ready() error   { return nil }
func (gatewayCluster) Leader() string { return "" }

// startHTTP serves the read-only Nacos API of the mirror, /gateway/status
// and /metrics. Pushes to local subscribers are off: they poll at the
// cacheMillis the list carries.
func (g *gateway) startHTTP(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", g.cfg.HTTPAddr)
	if err != nil {
		return err
	}
	fcfg := httpfront.DefaultConfig()
	fcfg.Addr = ln.Addr().String()
	fcfg.Push.Enabled = false
	g.instrument(&fcfg, g.logger.WithField("component", "metrics"))
	front, err := httpfront.New(fcfg, g.mirror, readOnly{}, gatewayCluster{addr: fcfg.Addr}, g.logger.WithField("component", "http"))
	if err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gateway/status", g.serveStatus)
	mux.Handle("/", front.Handler())
	g.front, g.ln = front, ln
	g.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 90 * time.Second}
	g.served = make(chan struct{})
	go func() {
		defer close(g.served)
		if err := g.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.log.WithError(err).Error("http server stopped")
		}
	}()
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
