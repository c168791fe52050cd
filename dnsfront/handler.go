package dnsfront

import (
	"net"
	"runtime/debug"

	"github.com/miekg/dns"
	"github.com/sirupsen/logrus"
)

// ServeDNS answers one query from a socket: Resolve, pack, write. A panic
// is logged and answered SERVFAIL; the server keeps serving.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	defer func() {
		if v := recover(); v != nil {
			s.log.WithFields(logrus.Fields{"panic": v, "stack": string(debug.Stack())}).Error("dns handler panicked")
			s.serverFailure(w, req)
		}
	}()
	_, tcp := w.LocalAddr().(*net.TCPAddr)
	client := clientAddr(w.RemoteAddr())
	v := sendAnswer
	if !tcp && s.rrl != nil && req != nil && !req.Response {
		if v = s.rrl.decide(client); v == dropAnswer {
			return
		}
	}
	resp, limit := s.resolve(req, tcp, client)
	if resp == nil {
		return
	}
	if v == slipAnswer {
		slip(resp)
	}
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	out, err := resp.PackBuffer(*bp)
	if err == nil && len(out) > limit {
		// Answers are fitted before packing; this is a safety net.
		s.log.WithField("size", len(out)).Warn("dns reply over its size limit, truncating")
		resp.Truncate(limit)
		out, err = resp.PackBuffer(*bp)
	}
	if err != nil {
		s.log.WithError(err).Error("dns reply does not pack")
		s.serverFailure(w, req)
		return
	}
	s.stats.count(req, resp.Rcode, tcp, resp.Truncated)
	if _, err := w.Write(out); err != nil {
		s.log.WithError(err).Debug("dns write failed")
	}
	if s.log.Logger.IsLevelEnabled(logrus.DebugLevel) {
		s.logQuery(w, req, resp)
	}
}

func (s *Server) logQuery(w dns.ResponseWriter, req, resp *dns.Msg) {
	f := logrus.Fields{"rcode": dns.RcodeToString[resp.Rcode], "answers": len(resp.Answer), "tc": resp.Truncated}
	if len(req.Question) > 0 {
		f["name"], f["type"] = req.Question[0].Name, dns.Type(req.Question[0].Qtype).String()
	}
	if a := w.RemoteAddr(); a != nil {
		f["client"], f["net"] = a.String(), a.Network()
	}
	s.log.WithFields(f).Debug("dns query")
}

// serverFailure sends a bare SERVFAIL; it never panics itself.
func (s *Server) serverFailure(w dns.ResponseWriter, req *dns.Msg) {
	defer func() {
		if v := recover(); v != nil {
			s.log.WithField("panic", v).Error("dns failure reply panicked")
		}
	}()
	if req == nil || req.Response {
		return
	}
	m := new(dns.Msg)
	m.SetRcode(req, dns.RcodeServerFailure)
	_ = w.WriteMsg(m)
	// Counted after the write: the writer that made the handler panic may
	// panic again here.
	s.stats.count(req, dns.RcodeServerFailure, isTCP(w), false)
}
