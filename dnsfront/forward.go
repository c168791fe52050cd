package dnsfront

import (
	"errors"
	"time"

	"github.com/miekg/dns"
)

// forwarder asks upstream resolvers about names outside the zone, over the
// transport the query came in on, trying each resolver in turn.
type forwarder struct {
	addrs []string
	udp   *dns.Client
	tcp   *dns.Client
}

func newForwarder(addrs []string, timeout time.Duration) *forwarder {
	if len(addrs) == 0 {
		return nil
	}
	return &forwarder{
		addrs: append([]string(nil), addrs...),
		udp:   &dns.Client{Net: "udp", Timeout: timeout, UDPSize: maxMsgSize},
		tcp:   &dns.Client{Net: "tcp", Timeout: timeout},
	}
}

// exchange returns the first answer any resolver gives.
func (f *forwarder) exchange(req *dns.Msg, tcp bool) (*dns.Msg, error) {
	c := f.udp
	if tcp {
		c = f.tcp
	}
	var errs []error
	for _, addr := range f.addrs {
		// The client packs the message, which may touch its OPT record.
		resp, _, err := c.Exchange(req.Copy(), addr)
		if err == nil {
			return resp, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// forward answers a query for a name outside the zone from upstream: the
// upstream reply with our id, the question as asked, RA set, cut to the
// requester's UDP size. SERVFAIL when no resolver answers.
func (s *Server) forward(req, m *dns.Msg, tcp bool, limit int) *dns.Msg {
	up, err := s.fwd.exchange(req, tcp)
	if err != nil {
		s.log.WithError(err).WithField("name", req.Question[0].Name).Debug("no recursor answered")
		m.Rcode = dns.RcodeServerFailure
		return m
	}
	up.Id, up.Response, up.RecursionAvailable = req.Id, true, true
	up.Question = m.Question
	up.Compress = true
	if up.Len() > limit {
		up.Truncate(limit)
	}
	return up
}
