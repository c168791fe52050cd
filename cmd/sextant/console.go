package main

import (
	"context"
	"time"

	"sextant/history"
	"sextant/httpfront"
	"sextant/naming"
)

// consoleSource gives the web console what only the node knows: its Raft
// state, its last hour of figures and its DNS address.
type consoleSource struct {
	n       *node
	ring    *history.Ring
	zone    string
	dnsAddr string
}

// startHistory starts the ring buffer of the overview charts, fed from the
// catalog, the HTTP API's write counts and the DNS front's counters.
func (n *node) startHistory(ctx context.Context, writes *writeMetrics) (*history.Ring, error) {
	r, err := history.New(history.DefaultConfig(), func() history.Counters {
		var c history.Counters
		for _, svc := range n.catalog.Services("", "") {
			c.Instances += len(svc.Instances)
			for _, in := range svc.Instances {
				if in.Healthy {
					c.Healthy++
				}
			}
		}
		c.Registrations = writes.total(naming.OpRegister)
		c.Beats = writes.total(naming.OpBeat)
		if n.dns != nil {
			c.DNSQueries = n.dns.Stats().Total()
		}
		return c
	})
	if err != nil {
		return nil, err
	}
	return r, r.Start(ctx)
}

// total sums the writes of one kind, whatever their result.
func (m *writeMetrics) total(kind naming.OpKind) uint64 {
	var t uint64
	if int(kind) < len(m.n) {
		for r := range m.n[kind] {
			t += m.n[kind][r].Load()
		}
	}
	return t
}

func (s consoleSource) Raft() httpfront.RaftView {
	v := httpfront.RaftView{LastContact: -1}
	if s.n.cluster == nil || s.n.cluster.raft == nil {
		return v
	}
	st := s.n.cluster.raft.Stats()
	v.Role, v.Term, v.CommitIndex, v.AppliedIndex = st.Role, st.Term, st.CommitIndex, st.AppliedIndex
	if !st.LastContact.IsZero() {
		v.LastContact = max(time.Since(st.LastContact).Milliseconds(), 0)
	}
	if st.Role == "Leader" {
		v.LastContact = 0
	}
	return v
}

func (s consoleSource) History() []history.Sample { return s.ring.Samples() }

func (s consoleSource) GRPCClients() []httpfront.GRPCClientView {
	if s.n.grpc == nil {
		return nil
	}
	cs := s.n.grpc.Clients()
	out := make([]httpfront.GRPCClientView, len(cs))
	for i, c := range cs {
		out[i] = httpfront.GRPCClientView(c)
	}
	return out
}

func (s consoleSource) DNS() httpfront.DNSView {
	addr := s.dnsAddr
	if s.n.dns != nil {
		if a := s.n.dns.UDPAddr(); a != "" {
			addr = a
		}
	}
	return httpfront.DNSView{Zone: s.zone, Addr: addr}
}
