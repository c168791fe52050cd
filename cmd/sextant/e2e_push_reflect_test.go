package main

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestPushIsNoReflector is the attack of issue 16 on a real node with the
// default push target: instance/list requests name a third address in
// clientIP (the victim), for many services and clusters strings, then the
// services change. No datagram may reach the victim; the requester's own
// address gets the pushes.
func TestPushIsNoReflector(t *testing.T) {
	p := startSextant(t, "", "--push-target", "clientIP")
	own, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	port := own.LocalAddr().(*net.UDPAddr).Port
	victim, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 77), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	count := func(c *net.UDPConn, got *int, mu *sync.Mutex, done chan struct{}) {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			_ = c.SetReadDeadline(time.Now().Add(4 * time.Second))
			if _, _, err := c.ReadFromUDP(buf); err != nil {
				return
			}
			mu.Lock()
			*got++
			mu.Unlock()
		}
	}
	var mu sync.Mutex
	var toVictim, toOwn int
	vdone, odone := make(chan struct{}), make(chan struct{})
	go count(victim, &toVictim, &mu, vdone)
	go count(own, &toOwn, &mu, odone)

	requests := 0
	for i := 0; i < 20; i++ {
		svc := "reflect-" + strconv.Itoa(i)
		for _, clusters := range []string{"", "A", "B", "A,B", "DEFAULT"} {
			q := url.Values{"serviceName": {svc}, "clientIP": {"127.0.0.77"}, "udpPort": {strconv.Itoa(port)}, "clusters": {clusters}}
			req, _ := http.NewRequest("GET", "http://"+p.httpAddr+"/nacos/v1/ns/instance/list?"+q.Encode(), nil)
			req.Header.Set("User-Agent", "Nacos-Go-Client:v1.1.4")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			requests++
		}
		if code, body := p.do("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {svc}, "ip": {"10.0.0.1"}, "port": {"80"}}); code != 200 {
			t.Fatalf("register: %d %s", code, body)
		}
	}
	<-vdone
	<-odone
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d list requests naming 127.0.0.77: %d datagrams to it, %d to the requester", requests, toVictim, toOwn)
	if toVictim != 0 {
		t.Fatalf("%d datagrams reflected to a third address", toVictim)
	}
	if toOwn == 0 {
		t.Fatal("no push reached the requester's own address")
	}
}
