package httpfront

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"sextant/history"
	"sextant/httpfront/console"
	"sextant/naming"
)

// The web console (package console) is served at ConsolePath; "/" and
// "/nacos" redirect there. Beside the Nacos API it uses, it reads three
// views the Nacos API does not have, each for any logged-in user:
//
//	GET /nacos/v1/console/cluster   members with Raft role, last report and
//	                                Distro ownership; this node's Raft term
//	GET /nacos/v1/console/history   the node's last hour (history.Sample)
//	GET /nacos/v1/console/dns       the DNS zone and address, for dig lines
const ConsolePath = "/nacos/"

// ConsoleSource tells the console what only the node knows; it may be nil
// (the views then hold what the front knows itself).
type ConsoleSource interface {
	// Raft is this node's Raft state; Role "" when it runs no Raft.
	Raft() RaftView
	// History is the node's recent figures, oldest first.
	History() []history.Sample
	// DNS is where the node answers DNS.
	DNS() DNSView
	// GRPCClients are the Nacos 2.x clients connected to this node (nil
	// when it serves no gRPC).
	GRPCClients() []GRPCClientView
}

// GRPCClientView is one gRPC client connected to the node.
type GRPCClientView struct {
	ConnectionID  string `json:"connectionId"`
	Remote        string `json:"remote"`
	ClientVersion string `json:"clientVersion"`
	App           string `json:"app"`
	Subscriptions int    `json:"subscriptions"`
	Instances     int    `json:"instances"`
	IdleMillis    int64  `json:"idleMillis"`
}

// RaftView is a node's Raft state as the console shows it.
type RaftView struct {
	Role string `json:"role"`
	Term uint64 `json:"term"`
	// LastContact is how long ago the leader was last heard from, in
	// milliseconds (0 on the leader, -1 if never).
	LastContact  int64  `json:"lastContact"`
	CommitIndex  uint64 `json:"commitIndex"`
	AppliedIndex uint64 `json:"appliedIndex"`
}

// DNSView is a node's DNS zone and listen address.
type DNSView struct {
	Zone string `json:"zone"`
	Addr string `json:"addr"`
}

// consoleRoutes declares the console (its page and assets, public, as
// its login page is one of them) and its views (any logged-in user).
func (s *Server) consoleRoutes(t *table) {
	toConsole := func(context.Context, *request) answer {
		return answer{status: http.StatusFound}.with("Location", ConsolePath)
	}
	t.add(http.MethodGet, "/", needNone, toConsole)
	t.add(http.MethodGet, "/nacos", needNone, toConsole)
	var index, file http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "the console is not available", http.StatusInternalServerError)
	}), nil
	file = index
	if files, err := console.New(); err != nil {
		// The files are compiled in, so this is a broken build; the API
		// still serves.
		s.log.WithError(err).Error("web console not served")
	} else {
		index = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { files.Serve(w, r, console.IndexName) })
		file = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			files.Serve(w, r, strings.TrimPrefix(r.URL.Path, ConsolePath+"console/"))
		})
	}
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		t.add(m, ConsolePath, needNone, nil).web = index
		t.add(m, ConsolePath+console.IndexName, needNone, nil).web = index
		t.add(m, ConsolePath+"console/*file", needNone, nil).web = file
	}
	t.add(http.MethodGet, consolePrefix+"/cluster", needAuthenticated, s.clusterView)
	t.add(http.MethodGet, consolePrefix+"/history", needAuthenticated, s.historyView)
	t.add(http.MethodGet, consolePrefix+"/dns", needAuthenticated, s.dnsView)
}

// memberView is a member with the services and instances it is Distro's
// owner of.
type memberView struct {
	naming.Member
	Services  int `json:"services"`
	Instances int `json:"instances"`
}

// clusterView serves GET /console/cluster.
func (s *Server) clusterView(ctx context.Context, _ *request) answer {
	members := s.cl.Members()
	sort.Slice(members, func(i, j int) bool { return members[i].Address < members[j].Address })
	idx := map[string]int{}
	views := make([]memberView, len(members))
	self := ""
	for i, m := range members {
		views[i].Member = m
		idx[m.Address] = i
		if m.Self {
			self = m.Address
		}
	}
	for _, svc := range s.r.Services("", "") {
		owner := s.cl.Owner(svc.Key)
		if owner == "" {
			owner = self
		}
		if i, ok := idx[owner]; ok {
			views[i].Services++
			views[i].Instances += len(svc.Instances)
		}
	}
	raft := RaftView{LastContact: -1}
	var clients []GRPCClientView
	if s.cfg.Console != nil {
		raft = s.cfg.Console.Raft()
		clients = s.cfg.Console.GRPCClients()
	}
	return s.jsonAnswer(map[string]any{"self": self, "leader": s.cl.Leader(), "raft": raft, "members": views,
		"grpc": clients != nil, "grpcClients": append([]GRPCClientView{}, clients...)})
}

// historyView serves GET /console/history.
func (s *Server) historyView(ctx context.Context, _ *request) answer {
	samples := []history.Sample{}
	if s.cfg.Console != nil {
		samples = append(samples, s.cfg.Console.History()...)
	}
	return s.jsonAnswer(map[string]any{"samples": samples})
}

// dnsView serves GET /console/dns.
func (s *Server) dnsView(ctx context.Context, _ *request) answer {
	var v DNSView
	if s.cfg.Console != nil {
		v = s.cfg.Console.DNS()
	}
	return s.jsonAnswer(v)
}
