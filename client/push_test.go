package client

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"
)

// TestPushIsAppliedAndAcked sends pushes to the client's UDP socket like a
// server does: plain and gzip, for a service held and one not held.
func TestPushIsAppliedAndAcked(t *testing.T) {
	cfg := testConfig(t, "127.0.0.1:1")
	cfg.PushDisabled = false
	c, _ := newClient(t, cfg)
	var got []string
	done := make(chan struct{}, 8)
	cancel, err := c.Subscribe(ServiceRef{ServiceName: "web"}, func(s Service) {
		got = append(got, ipsOf(s))
		done <- struct{}{}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: c.Stats().PushPort}
	send := func(pkt []byte) map[string]string {
		t.Helper()
		if _, err := conn.WriteToUDP(pkt, to); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 65535)
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("no ack: %v", err)
		}
		var ack map[string]string
		if err := json.Unmarshal(buf[:n], &ack); err != nil {
			t.Fatalf("ack %q: %v", buf[:n], err)
		}
		return ack
	}
	packet := func(svc Service, seq string) []byte {
		data, _ := json.Marshal(svc)
		b, _ := json.Marshal(map[string]any{"type": "dom", "data": string(data), "lastRefTime": json.RawMessage(seq)})
		return b
	}
	ack := send(packet(svcOf("DEFAULT_GROUP@@web", "10.0.0.1"), "1700000000000000001"))
	if ack["type"] != "push-ack" || ack["lastRefTime"] != "1700000000000000001" {
		t.Fatalf("ack %v", ack)
	}
	<-done
	// A large push arrives gzip-compressed.
	big := svcOf("DEFAULT_GROUP@@web")
	for i := 0; i < 40; i++ {
		big.Hosts = append(big.Hosts, Instance{IP: "10.1.0." + itoa(i+1), Port: 80, Weight: 1, Healthy: true, Enabled: true, Metadata: map[string]string{"zone": strings.Repeat("z", 20)}})
	}
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(packet(big, "2"))
	zw.Close()
	if ack := send(zb.Bytes()); ack["type"] != "push-ack" || ack["lastRefTime"] != "2" {
		t.Fatalf("gzip ack %v", ack)
	}
	<-done
	if ack := send(packet(svcOf("DEFAULT_GROUP@@other", "10.0.0.3"), "3")); ack["type"] != "push-ack" {
		t.Fatalf("push of a service not held must still be acked: %v", ack)
	}
	if ack := send([]byte(`{"type":"weird","lastRefTime":"4"}`)); ack["type"] != "unknown-ack" {
		t.Fatalf("unknown type ack %v", ack)
	}
	if len(got) != 2 || got[0] != "10.0.0.1" || strings.Count(got[1], ",") != 39 {
		t.Fatalf("subscriber saw %v", got)
	}
	if c.Stats().PushesApplied != 2 {
		t.Fatalf("stats %+v", c.Stats())
	}
}
