package httpfront

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for i, mut := range []func(*Config){
		func(c *Config) { c.Addr = "8848" },
		func(c *Config) { c.MaxBodyBytes = 10 },
		func(c *Config) { c.ApplyTimeout = 0 },
		func(c *Config) { c.ShutdownTimeout = 0 },
		func(c *Config) { c.ListCacheSize = 0 },
		func(c *Config) { c.ListCacheBytes = 0 },
		func(c *Config) { c.ListCacheBytes = -1 },
		func(c *Config) { c.Push.Target = "x" },
	} {
		c := DefaultConfig()
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("case %d: invalid config accepted", i)
		}
	}
	if _, err := New(DefaultConfig(), nil, nil, nil, nil); err == nil {
		t.Fatal("New without dependencies succeeded")
	}
}

var lastRefTimeRE = regexp.MustCompile(`"lastRefTime":\d+`)

// TestServeAndPushOverTheNetwork runs the front on a real socket: a client
// subscribes with udpPort as the Go SDK does, a change is pushed to its UDP
// socket, and the pushed data is exactly the instance/list body.
func TestServeAndPushOverTheNetwork(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Push.MergeDelay = 20 * time.Millisecond })
	e.start()
	if err := e.s.Start(context.Background()); err == nil {
		t.Fatal("second Start succeeded")
	}
	base := "http://" + e.s.Addr()
	if strings.HasSuffix(base, ":0") {
		t.Fatalf("Addr() = %s, want the bound port", e.s.Addr())
	}
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	port := udp.LocalAddr().(*net.UDPAddr).Port

	get := func(path string) string {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("User-Agent", goUA)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	listPath := "/nacos/v1/ns/instance/list?serviceName=DEFAULT_GROUP@@demo&clusters=&udpPort=" + strconv.Itoa(port) + "&clientIP=192.0.2.1"
	get(listPath)

	resp, err := http.Post(base+"/nacos/v1/ns/instance", formCT, strings.NewReader("serviceName=demo&ip=10.0.0.1&port=8080&metadata="+strings.Repeat("k", 1200)+"%3Dv"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("register: %d", resp.StatusCode)
	}

	pkt, gzipped, from := readPush(t, udp, 2*time.Second)
	if !gzipped {
		t.Fatal("push above 1024 bytes not gzipped")
	}
	var push struct {
		Type        string `json:"type"`
		Data        string `json:"data"`
		LastRefTime int64  `json:"lastRefTime"`
	}
	if err := json.Unmarshal(pkt, &push); err != nil || push.Type != "dom" {
		t.Fatalf("push = %q: %v", pkt, err)
	}
	polled := get(listPath)
	if a, b := lastRefTimeRE.ReplaceAllString(push.Data, ""), lastRefTimeRE.ReplaceAllString(polled, ""); a != b {
		t.Fatalf("push data differs from instance/list:\npush %s\nlist %s", a, b)
	}
	udp.WriteToUDP([]byte(`{"type":"push-ack","lastRefTime":"`+strconv.FormatInt(push.LastRefTime, 10)+`","data":""}`), from)
	waitFor(t, 2*time.Second, func() bool { return e.s.push.Stats().Succeed == 1 })
	if st := get("/nacos/v1/ns/operator/push/state"); !strings.Contains(st, `"succeed":1`) || !strings.Contains(st, `"total":1`) {
		t.Fatalf("push state = %s", st)
	}

	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := http.Get(base + "/nacos/v1/console/health/liveness"); err == nil {
		t.Fatal("server still answers after Close")
	}
	if err := e.s.Start(context.Background()); err == nil {
		t.Fatal("Start after Close succeeded")
	}
}

// readPush reads one push packet from udp within timeout, gunzipped.
func readPush(t *testing.T, udp *net.UDPConn, timeout time.Duration) (pkt []byte, gzipped bool, from *net.UDPAddr) {
	t.Helper()
	buf := make([]byte, 64<<10)
	udp.SetReadDeadline(time.Now().Add(timeout))
	n, from, err := udp.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no push within %v: %v", timeout, err)
	}
	pkt = buf[:n]
	if !bytes.HasPrefix(pkt, []byte{0x1f, 0x8b}) {
		return pkt, false, from
	}
	zr, err := gzip.NewReader(bytes.NewReader(pkt))
	if err != nil {
		t.Fatal(err)
	}
	pkt, err = io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return pkt, true, from
}
