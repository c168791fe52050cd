package dnsfront

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
)

// entries returns the logged entries with the given message.
func entries(h *logtest.Hook, msg string) []logrus.Entry {
	var out []logrus.Entry
	for _, e := range h.AllEntries() {
		if e.Message == msg {
			out = append(out, *e)
		}
	}
	return out
}

func TestServerLogs(t *testing.T) {
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	s, err := New(cfg, fixture(t), logrus.NewEntry(logger))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(entries(hook, "dns front listening")); n != 1 {
		t.Errorf("%d start lines", n)
	}
	exchange(t, s, question("nosuch.service.nacos.", dns.TypeAAAA, 0), "udp")
	// The line is written after the reply is sent.
	waitFor(t, 2*time.Second, func() bool { return len(entries(hook, "dns query")) > 0 })
	q := entries(hook, "dns query")
	if len(q) != 1 {
		t.Fatalf("%d query lines for one query", len(q))
	}
	f := q[0].Data
	if q[0].Level != logrus.DebugLevel || f["name"] != "nosuch.service.nacos." || f["type"] != "AAAA" ||
		f["rcode"] != "NXDOMAIN" || f["client"] == nil {
		t.Errorf("query line: %v %v", q[0].Level, f)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(entries(hook, "dns front stopped")); n != 1 {
		t.Errorf("%d stop lines", n)
	}
}

func TestServerQuietAboveDebug(t *testing.T) {
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.InfoLevel)
	s := newServer(t, fixture(t), nil)
	s.log = logrus.NewEntry(logger)
	w := &recordingWriter{}
	s.ServeDNS(w, question("orders.service.nacos.", dns.TypeA, 0))
	if w.wrote == nil || len(entries(hook, "dns query")) != 0 {
		t.Errorf("reply %x, log %v", w.wrote, hook.AllEntries())
	}
}

// recordingWriter is a UDP ResponseWriter that keeps what is written.
type recordingWriter struct {
	dns.ResponseWriter
	wrote []byte
}

func (w *recordingWriter) LocalAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
}
func (w *recordingWriter) RemoteAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353}
}
func (w *recordingWriter) Write(b []byte) (int, error) {
	w.wrote = append([]byte(nil), b...)
	return len(b), nil
}

// panicWriter is a ResponseWriter whose LocalAddr panics, to drive the
// handler's recovery; it records what is written.
type panicWriter struct {
	dns.ResponseWriter
	got *dns.Msg
}

func (w *panicWriter) LocalAddr() net.Addr { panic("boom") }
func (w *panicWriter) RemoteAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353}
}
func (w *panicWriter) WriteMsg(m *dns.Msg) error   { w.got = m; return nil }
func (w *panicWriter) Write(b []byte) (int, error) { return len(b), nil }

func TestServerRecoversFromPanic(t *testing.T) {
	s := newServer(t, fixture(t), nil)
	w := &panicWriter{}
	req := question("orders.service.nacos.", dns.TypeA, 0)
	s.ServeDNS(w, req)
	if w.got == nil || w.got.Rcode != dns.RcodeServerFailure || w.got.Id != req.Id {
		t.Errorf("after a panic: %v", w.got)
	}
}
