package push

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/naming"
)

var demo = naming.NewServiceKey("", "", "demo")

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testLog(t *testing.T) *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

func testConfig() Config {
	c := DefaultConfig()
	c.Target = TargetSource
	c.Listen = "127.0.0.1:0"
	c.MergeDelay = 50 * time.Millisecond
	c.AckTimeout = 300 * time.Millisecond
	c.SubscriberTTL = 10 * time.Second
	return c
}

// fixture is a catalog, a pusher on it and a UDP socket acting as the client.
type fixture struct {
	cat    *naming.Catalog
	p      *Pusher
	client *net.UDPConn
	pad    atomic.Int64 // bytes of padding the render adds
	port   int
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := &fixture{cat: naming.NewCatalog()}
	p, err := New(cfg, f.cat, f.render, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	f.p = p
	f.client, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.client.Close() })
	f.port = f.client.LocalAddr().(*net.UDPAddr).Port
	return f
}

// render is a stand-in for the HTTP front's instance/list rendering.
func (f *fixture) render(key naming.ServiceKey, clusters, agent string) []byte {
	doc := map[string]any{"name": key.Grouped(), "clusters": clusters, "agent": agent, "pad": strings.Repeat("x", int(f.pad.Load()))}
	var hosts []string
	if s, ok := f.cat.Service(key); ok {
		for _, in := range s.Instances {
			hosts = append(hosts, in.Key().Addr())
		}
	}
	doc["hosts"] = hosts
	b, _ := json.Marshal(doc)
	return b
}

func (f *fixture) subscribe(t *testing.T) {
	t.Helper()
	addr, err := f.p.Subscribe(Subscription{Service: demo, SourceIP: "127.0.0.1", ClientIP: "10.9.9.9", UDPPort: f.port, Agent: "Nacos-Go-Client:v1.1.4"})
	if err != nil {
		t.Fatal(err)
	}
	if want := netip.MustParseAddrPort("127.0.0.1:" + strconv.Itoa(f.port)); addr != want {
		t.Fatalf("push target %s, want %s (target source ignores clientIP)", addr, want)
	}
}

func (f *fixture) register(t *testing.T, ip string) {
	t.Helper()
	err := f.cat.Apply(naming.Op{Kind: naming.OpRegister, Time: time.Now().UnixMilli(), Service: demo,
		Instance: &naming.Instance{IP: ip, Port: 80, Cluster: "DEFAULT", Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}})
	if err != nil {
		t.Fatal(err)
	}
}

type packet struct {
	Type        string `json:"type"`
	Data        string `json:"data"`
	LastRefTime int64  `json:"lastRefTime"`
	gzipped     bool
	from        *net.UDPAddr
}

// read waits up to d for one push; ok is false on timeout.
func (f *fixture) read(t *testing.T, d time.Duration) (packet, bool) {
	t.Helper()
	buf := make([]byte, 64<<10)
	f.client.SetReadDeadline(time.Now().Add(d))
	n, from, err := f.client.ReadFromUDP(buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return packet{}, false
		}
		t.Fatal(err)
	}
	b := buf[:n]
	var pk packet
	if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
		pk.gzipped = true
	}
	if err := json.Unmarshal(b, &pk); err != nil {
		t.Fatalf("push is not JSON: %v: %q", err, b)
	}
	pk.from = from
	return pk, true
}

func (f *fixture) ack(t *testing.T, pk packet, asNumber bool) {
	t.Helper()
	lrt := `"` + strconv.FormatInt(pk.LastRefTime, 10) + `"`
	if asNumber {
		lrt = strconv.FormatInt(pk.LastRefTime, 10)
	}
	if _, err := f.client.WriteToUDP([]byte(`{"type":"push-ack","lastRefTime":`+lrt+`,"data":""}`), pk.from); err != nil {
		t.Fatal(err)
	}
}

func TestPushAfterChangeAndAckStopsResend(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testConfig())
	f.subscribe(t)
	f.register(t, "10.0.0.1")

	pk, ok := f.read(t, 2*time.Second)
	if !ok {
		t.Fatal("no push within 2s of a change")
	}
	if pk.Type != "dom" || pk.LastRefTime <= 0 || pk.gzipped {
		t.Fatalf("push = %+v, want type dom, positive lastRefTime, not gzipped", pk)
	}
	var data struct {
		Name  string   `json:"name"`
		Hosts []string `json:"hosts"`
		Agent string   `json:"agent"`
	}
	if err := json.Unmarshal([]byte(pk.Data), &data); err != nil {
		t.Fatalf("data is not the rendered JSON string: %v", err)
	}
	if data.Name != "DEFAULT_GROUP@@demo" || len(data.Hosts) != 1 || data.Hosts[0] != "10.0.0.1:80" || data.Agent != "Nacos-Go-Client:v1.1.4" {
		t.Fatalf("data = %+v", data)
	}
	f.ack(t, pk, false)
	waitFor(t, 2*time.Second, func() bool { return f.p.Stats().Succeed == 1 })
	if extra, ok := f.read(t, 3*testConfig().AckTimeout); ok {
		t.Fatalf("acked push was sent again: %+v", extra)
	}
	if st := f.p.Stats(); st.Total != 1 || st.Failed != 0 || st.Ratio() != 1 {
		t.Fatalf("stats = %+v", st)
	}

	// A second change gets a new, larger sequence number; a numeric ack (Node) settles it.
	f.register(t, "10.0.0.2")
	pk2, ok := f.read(t, 2*time.Second)
	if !ok {
		t.Fatal("no push for the second change")
	}
	if pk2.LastRefTime <= pk.LastRefTime {
		t.Fatalf("lastRefTime %d not above %d", pk2.LastRefTime, pk.LastRefTime)
	}
	f.ack(t, pk2, true)
	waitFor(t, 2*time.Second, func() bool { return f.p.Stats().Succeed == 2 })
}

func TestPushGzipAboveThreshold(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testConfig())
	f.pad.Store(2000)
	f.subscribe(t)
	f.register(t, "10.0.0.1")
	pk, ok := f.read(t, 2*time.Second)
	if !ok {
		t.Fatal("no push")
	}
	if !pk.gzipped {
		t.Fatal("push of more than 1024 bytes was not gzipped")
	}
	if !strings.Contains(pk.Data, strings.Repeat("x", 2000)) || !strings.Contains(pk.Data, "10.0.0.1:80") {
		t.Fatal("gzipped push does not carry the rendered data")
	}
}

func TestUnackedPushIsResentExactlyOnce(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	f := newFixture(t, cfg)
	f.subscribe(t)
	f.register(t, "10.0.0.1")
	first, ok := f.read(t, 2*time.Second)
	if !ok {
		t.Fatal("no push")
	}
	t0 := time.Now()
	second, ok := f.read(t, 2*time.Second+cfg.AckTimeout)
	if !ok {
		t.Fatal("unacked push was not resent")
	}
	if second.LastRefTime != first.LastRefTime || second.Data != first.Data {
		t.Fatal("resend differs from the first push")
	}
	if waited := time.Since(t0); waited < cfg.AckTimeout/2 {
		t.Fatalf("resent after %s, before the ack timeout %s", waited, cfg.AckTimeout)
	}
	waitFor(t, 3*time.Second, func() bool { return f.p.Stats().Failed == 1 })
	if third, ok := f.read(t, 3*cfg.AckTimeout); ok {
		t.Fatalf("push sent a third time: %+v", third)
	}
	if st := f.p.Stats(); st.Total != 1 || st.Succeed != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestChangesWithinMergeDelayGiveOnePush(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MergeDelay = 300 * time.Millisecond
	f := newFixture(t, cfg)
	f.subscribe(t)
	for i := 1; i <= 5; i++ {
		f.register(t, "10.0.0."+strconv.Itoa(i))
	}
	pk, ok := f.read(t, 3*time.Second)
	if !ok {
		t.Fatal("no push")
	}
	f.ack(t, pk, false)
	var data struct{ Hosts []string }
	json.Unmarshal([]byte(pk.Data), &data)
	if len(data.Hosts) != 5 {
		t.Fatalf("merged push shows %d hosts, want the final 5", len(data.Hosts))
	}
	if extra, ok := f.read(t, 2*cfg.MergeDelay); ok {
		t.Fatalf("changes within the merge delay gave a second push: %+v", extra)
	}
}

func TestExpiredSubscriberGetsNothing(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.SubscriberTTL = 100 * time.Millisecond
	f := newFixture(t, cfg)
	f.subscribe(t)
	waitFor(t, 2*time.Second, func() bool { return f.p.Count() == 0 && len(f.p.Subscribers(demo)) == 0 })
	f.register(t, "10.0.0.1")
	if pk, ok := f.read(t, cfg.MergeDelay+500*time.Millisecond); ok {
		t.Fatalf("expired subscriber got a push: %+v", pk)
	}
	if st := f.p.Stats(); st.Total != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestNewerPushSupersedesUnacked(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.AckTimeout = 5 * time.Second
	f := newFixture(t, cfg)
	f.subscribe(t)
	f.register(t, "10.0.0.1")
	first, ok := f.read(t, 2*time.Second)
	if !ok {
		t.Fatal("no push")
	}
	f.register(t, "10.0.0.2")
	second, ok := f.read(t, 2*time.Second)
	if !ok {
		t.Fatal("no second push")
	}
	f.ack(t, first, false) // stale: must not count
	f.ack(t, second, false)
	waitFor(t, 2*time.Second, func() bool { return f.p.Stats().Succeed == 1 })
	if st := f.p.Stats(); st.Total != 2 || st.Superseded != 1 || st.Succeed != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

// TestWatchCallbackNeverWaitsForSending holds the send and ack state as a
// stuck sender would, and checks that catalog changes still complete: the
// Watch callback only marks the service dirty.
func TestWatchCallbackNeverWaitsForSending(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testConfig())
	f.subscribe(t)
	f.p.amu.Lock()
	done := make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < 100 && err == nil; i++ {
			err = f.cat.Apply(naming.Op{Kind: naming.OpRegister, Time: time.Now().UnixMilli(), Service: demo,
				Instance: &naming.Instance{IP: "10.0.1." + strconv.Itoa(i), Port: 80, Cluster: "DEFAULT", Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}})
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			f.p.amu.Unlock()
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		f.p.amu.Unlock()
		t.Fatal("catalog changes blocked behind the push sender")
	}
	f.p.amu.Unlock()
	// The first change may go out on its own before the rest are merged;
	// the final state must follow.
	deadline := time.Now().Add(3 * time.Second)
	for {
		pk, ok := f.read(t, time.Until(deadline))
		if ok && strings.Contains(pk.Data, "10.0.1.99") {
			return
		}
		if !ok || time.Now().After(deadline) {
			t.Fatal("no push of the final state once the sender is free")
		}
	}
}

func TestSubscribeRules(t *testing.T) {
	cat := naming.NewCatalog()
	render := func(naming.ServiceKey, string, string) []byte { return []byte("{}") }

	off := DefaultConfig()
	off.Enabled = false
	p, err := New(off, cat, render, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Subscribe(Subscription{Service: demo, SourceIP: "127.0.0.1", UDPPort: 5000}); !errors.Is(err, ErrDisabled) {
		t.Fatalf("disabled push accepted a subscriber: %v", err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Close()

	cfg := DefaultConfig()
	cfg.MaxSubscribers = 2
	p, err = New(cfg, cat, render, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := 0; i < 2; i++ {
		if _, err := p.Subscribe(Subscription{Service: demo, SourceIP: "127.0.0.1", UDPPort: 5000 + i}); err != nil {
			t.Fatal(err)
		}
	}
	// Refreshing an existing subscriber is always possible.
	if _, err := p.Subscribe(Subscription{Service: demo, SourceIP: "127.0.0.1", UDPPort: 5000, Agent: "new"}); err != nil {
		t.Fatalf("refresh refused: %v", err)
	}
	if _, err := p.Subscribe(Subscription{Service: demo, SourceIP: "127.0.0.1", UDPPort: 6000}); !errors.Is(err, ErrFull) {
		t.Fatalf("third subscriber beyond MaxSubscribers=2: %v", err)
	}
	subs := p.Subscribers(demo)
	if len(subs) != 2 || subs[0].Agent != "new" || subs[0].Addr.Port() != 5000 {
		t.Fatalf("subscribers = %+v", subs)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestResolveTarget(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}
	cases := []struct {
		target, clientIP, source string
		port                     int
		want                     string
	}{
		// clientIP is honoured only from a trusted proxy.
		{TargetClientIP, "10.0.0.9", "10.1.2.3", 55000, "10.0.0.9:55000"},
		{TargetClientIP, "10.0.0.9", "127.0.0.1", 55000, "127.0.0.1:55000"},
		{TargetClientIP, "192.0.2.7", "10.2.0.1", 55000, "10.2.0.1:55000"},
		{TargetClientIP, "", "10.1.2.3", 55000, "10.1.2.3:55000"},
		{TargetClientIP, " ", "::ffff:127.0.0.1", 55000, "127.0.0.1:55000"},
		{TargetSource, "10.0.0.9", "10.1.2.3", 55000, "10.1.2.3:55000"},
		{TargetSource, "10.0.0.9", "::1", 55000, "[::1]:55000"},
		{TargetClientIP, "not-an-ip", "10.1.2.3", 55000, ""},
		{TargetClientIP, "10.0.0.9", "", 55000, ""},
		{TargetClientIP, "10.0.0.9", "10.1.2.3", 0, ""},
		{TargetClientIP, "10.0.0.9", "10.1.2.3", 70000, ""},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		cfg.Target, cfg.TrustedProxies = c.target, proxies
		got, _, err := resolveTarget(cfg, Subscription{ClientIP: c.clientIP, SourceIP: c.source, UDPPort: c.port})
		if c.want == "" {
			if err == nil {
				t.Errorf("%+v: want error, got %s", c, got)
			}
			continue
		}
		if err != nil || got.String() != c.want {
			t.Errorf("%+v: got %s, %v; want %s", c, got, err, c.want)
		}
	}
}

// TestSubscriptionsPerAddressAreBounded: an address holds one subscription
// per service whatever the clusters string, and at most MaxPerTarget in
// all; a source makes at most MaxPerSource.
func TestSubscriptionsPerAddressAreBounded(t *testing.T) {
	render := func(naming.ServiceKey, string, string) []byte { return []byte("{}") }
	cfg := DefaultConfig()
	cfg.MaxPerTarget, cfg.MaxPerSource = 3, 5
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}
	p, err := New(cfg, naming.NewCatalog(), render, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, clusters := range []string{"", "A", "B", "A,B", "C"} {
		if _, err := p.Subscribe(Subscription{Service: demo, Clusters: clusters, SourceIP: "127.0.0.1", UDPPort: 5000}); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.Count(); n != 1 {
		t.Fatalf("one address and service under 5 clusters strings: %d subscriptions", n)
	}
	svc := func(i int) naming.ServiceKey { return naming.NewServiceKey("", "", "s"+strconv.Itoa(i)) }
	for i := 1; i < 3; i++ {
		if _, err := p.Subscribe(Subscription{Service: svc(i), SourceIP: "127.0.0.1", UDPPort: 5000}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Subscribe(Subscription{Service: svc(3), SourceIP: "127.0.0.1", UDPPort: 5001}); !errors.Is(err, ErrFull) {
		t.Fatalf("fourth subscription to one address: %v", err)
	}
	// A trusted proxy names other addresses, up to its own bound.
	for i := 0; i < 5; i++ {
		if _, err := p.Subscribe(Subscription{Service: svc(i), SourceIP: "10.1.0.1", ClientIP: "10.9.0." + strconv.Itoa(i+1), UDPPort: 5000}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Subscribe(Subscription{Service: svc(9), SourceIP: "10.1.0.1", ClientIP: "10.9.0.9", UDPPort: 5000}); !errors.Is(err, ErrFull) {
		t.Fatalf("sixth subscription from one source: %v", err)
	}
}

func TestRegistryExpiry(t *testing.T) {
	r := newRegistry(10, 10*time.Second)
	t0 := time.Unix(1000, 0)
	a := Subscriber{Service: demo, Addr: netip.MustParseAddrPort("127.0.0.1:1"), LastSeen: t0}
	b := Subscriber{Service: demo, Addr: netip.MustParseAddrPort("127.0.0.1:2"), LastSeen: t0.Add(5 * time.Second)}
	r.add(a)
	r.add(b)
	if n := len(r.live(demo, t0.Add(10*time.Second))); n != 2 {
		t.Fatalf("at exactly the ttl both are live, got %d", n)
	}
	if got := r.live(demo, t0.Add(11*time.Second)); len(got) != 1 || got[0].Addr != b.Addr {
		t.Fatalf("after the ttl only the refreshed one is live, got %+v", got)
	}
	if gone := r.expire(t0.Add(11 * time.Second)); gone != 1 || r.count() != 1 {
		t.Fatalf("expire dropped %d, %d left", gone, r.count())
	}
	if gone := r.expire(t0.Add(16 * time.Second)); gone != 1 || r.count() != 0 || r.has(demo) {
		t.Fatalf("expire dropped %d, %d left", gone, r.count())
	}
}

func TestParseAck(t *testing.T) {
	cases := []struct {
		in  string
		seq int64
		ok  bool
	}{
		{`{"type":"push-ack","lastRefTime":"123","data":""}`, 123, true},
		{`{"type":"push-ack","lastRefTime":123}`, 123, true},
		{`{"type":"unknow-ack","lastRefTime":"7"}`, 7, true},
		{`{"type":"dump-ack","lastRefTime":"8","data":"{}"}`, 8, true},
		{`{"type":"dom","lastRefTime":"8"}`, 0, false},
		{`{"type":"push-ack"}`, 0, false},
		{`{"type":"push-ack","lastRefTime":"x"}`, 0, false},
		{`{"type":"push-ack","lastRefTime":1.5}`, 0, false},
		{`not json`, 0, false},
	}
	for _, c := range cases {
		_, seq, err := parseAck([]byte(c.in))
		if (err == nil) != c.ok || seq != c.seq {
			t.Errorf("parseAck(%s) = %d, %v; want %d ok=%v", c.in, seq, err, c.seq, c.ok)
		}
	}
}

func FuzzParseAck(f *testing.F) {
	f.Add([]byte(`{"type":"push-ack","lastRefTime":"123","data":""}`))
	f.Add([]byte(`{"type":"push-ack","lastRefTime":123}`))
	f.Add([]byte(`{"type":"push-ack","lastRefTime":"-1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, _, err := parseAck(b)
		if err == nil && !strings.HasSuffix(typ, "-ack") {
			t.Fatalf("accepted type %q", typ)
		}
	})
}

func TestEncodePacket(t *testing.T) {
	small, err := encodePacket([]byte(`{"a":"<&>"}`), 42)
	if err != nil {
		t.Fatal(err)
	}
	var pk packet
	if err := json.Unmarshal(small, &pk); err != nil || pk.Type != "dom" || pk.Data != `{"a":"<&>"}` || pk.LastRefTime != 42 {
		t.Fatalf("small packet %q: %+v %v", small, pk, err)
	}
	big, err := encodePacket([]byte(`{"a":"`+strings.Repeat("y", GzipThreshold)+`"}`), 43)
	if err != nil || !bytes.HasPrefix(big, []byte{0x1f, 0x8b}) {
		t.Fatalf("big packet not gzipped: %v", err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 3*maxDatagram)
	for i := range noise {
		noise[i] = byte('a' + rnd.IntN(26))
	}
	if _, err := encodePacket(noise, 44); err == nil {
		t.Fatal("a push that cannot fit a datagram was encoded")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(*Config){
		func(c *Config) { c.Target = "udp" },
		func(c *Config) { c.AckTimeout = 0 },
		func(c *Config) { c.Resends = -1 },
		func(c *Config) { c.SubscriberTTL = 0 },
		func(c *Config) { c.MaxSubscribers = 0 },
		func(c *Config) { c.MergeDelay = -time.Second },
		func(c *Config) { c.Listen = "" },
	}
	for i, mut := range bad {
		c := DefaultConfig()
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("case %d: invalid config accepted", i)
		}
	}
	c := DefaultConfig()
	c.Enabled = false
	c.Target = "whatever"
	if err := c.Validate(); err != nil {
		t.Fatalf("disabled push config need not be complete: %v", err)
	}
}
