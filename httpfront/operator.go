package httpfront

import (
	"context"
	"encoding/json"

	"sextant/naming"
)

// getSwitches serves GET /operator/switches.
func (s *Server) getSwitches(ctx context.Context, _ *request) answer {
	return s.jsonAnswer(s.r.Switches())
}

// setSwitch serves PUT /operator/switches (entry, value).
func (s *Server) setSwitch(p *request) (naming.Op, error) {
	entry, err := p.required("entry")
	if err != nil {
		return naming.Op{}, err
	}
	value, err := p.required("value")
	if err != nil {
		return naming.Op{}, err
	}
	return naming.Op{Kind: naming.OpSetSwitch, SwitchEntry: entry, SwitchValue: value}, nil
}

// Writer is what the front changes state through: naming's Writer, and
// Owns, which says whether this node is responsible for a service (the
// Distro owner; every service on a lone node), for the responsible counts
// of /operator/metrics.
type Writer interface {
	naming.Writer
	Owns(key naming.ServiceKey) bool
}

// metrics serves GET /operator/metrics. Clients read only status ("UP").
// onlyStatus=true answers just the status, as Nacos 2 does by default.
func (s *Server) metrics(ctx context.Context, p *request) answer {
	st, _ := s.status()
	onlyStatus, err := p.boolOr(false, "onlyStatus")
	if err != nil {
		return bad(err)
	}
	if onlyStatus {
		return s.jsonAnswer(map[string]any{"status": st})
	}
	var services, instances, ownServices, ownInstances int
	for _, svc := range s.r.Services("", "") {
		services++
		instances += len(svc.Instances)
		if s.w.Owns(svc.Key) {
			ownServices++
			ownInstances += len(svc.Instances)
		}
	}
	return s.jsonAnswer(map[string]any{
		"status":                   st,
		"serviceCount":             services,
		"instanceCount":            instances,
		"responsibleServiceCount":  ownServices,
		"responsibleInstanceCount": ownInstances,
		"subscribeCount":           s.push.Count(),
		"raftNotifyTaskCount":      0,
		"cpu":                      0,
		"load":                     0,
		"mem":                      0,
	})
}

// servers serves GET /operator/servers; healthy=true keeps UP members only.
func (s *Server) servers(ctx context.Context, p *request) answer {
	healthy, err := p.boolOr(false, "healthy")
	if err != nil {
		return bad(err)
	}
	out := []memberJSON{}
	for _, m := range s.cl.Members() {
		if healthy && m.State != naming.MemberUp {
			continue
		}
		out = append(out, memberOf(m))
	}
	return s.jsonAnswer(map[string]any{"servers": out})
}

// pushState serves /operator/push/state; reset=true zeroes the counters
// after reading them.
func (s *Server) pushState(ctx context.Context, p *request) answer {
	reset, err := p.boolOr(false, "reset")
	if err != nil {
		return bad(err)
	}
	st := s.push.Stats()
	if reset {
		s.push.ResetStats()
	}
	return s.jsonAnswer(map[string]any{
		"succeed":    st.Succeed,
		"failed":     st.Failed,
		"superseded": st.Superseded,
		"total":      st.Total,
		"ratio":      st.Ratio(),
		"reset":      reset,
	})
}

// raftLeader serves GET /raft/leader as Nacos 1.x does: {"leader": the
// leader as a RaftPeer, in JSON, as a string}, the string "null" when
// there is no leader. Sextant knows no Raft term here, so term is 0.
func (s *Server) raftLeader(ctx context.Context, _ *request) answer {
	leader := "null"
	if addr := s.cl.Leader(); addr != "" {
		b, _ := json.Marshal(map[string]any{"ip": addr, "voteFor": addr, "term": 0,
			"leaderDueMs": 0, "heartbeatDueMs": 0, "state": "LEADER"})
		leader = string(b)
	}
	return s.jsonAnswer(map[string]any{"leader": leader})
}
