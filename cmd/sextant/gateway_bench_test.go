package main

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// quietLogger discards everything.
func quietLogger() *logrus.Logger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

// BenchmarkGatewayDNS measures queries answered by the gateway's DNS front
// from memory over UDP on loopback (load generator in the same process).
func BenchmarkGatewayDNS(b *testing.B) {
	cfg := DefaultGatewayConfig()
	cfg.Servers = []string{"127.0.0.1:1"}
	cfg.DNSAddr, cfg.HTTPAddr, cfg.CacheDir = "127.0.0.1:0", "", b.TempDir()
	cfg.Push, cfg.LogLevel = false, "error"
	g, err := startGateway(b.Context(), cfg, quietLogger())
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	key := naming.NewServiceKey("", "", "web")
	for i := 0; i < 3; i++ {
		in := &naming.Instance{IP: fmt.Sprintf("10.0.0.%d", i+1), Port: 8080, Cluster: "DEFAULT", Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}
		if err := g.mirror.Apply(naming.Op{Kind: naming.OpRegister, Time: time.Now().UnixMilli(), Service: key, Instance: in}); err != nil {
			b.Fatal(err)
		}
	}
	addr := g.dns.UDPAddr()
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		conn, err := dns.Dial("udp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		m := new(dns.Msg)
		m.SetQuestion("web.service.nacos.", dns.TypeA)
		for pb.Next() {
			conn.SetDeadline(time.Now().Add(2 * time.Second))
			if err := conn.WriteMsg(m); err != nil {
				b.Error(err)
				return
			}
			r, err := conn.ReadMsg()
			if err != nil || len(r.Answer) != 3 {
				b.Errorf("answer %v %v", r, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "queries/s")
}
