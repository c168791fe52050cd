package grpcfront

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sextant/naming"
)

func TestJudgeIdle(t *testing.T) {
	const s = int64(time.Second)
	idle, timeout := 20*time.Second, 3*time.Second
	for _, c := range []struct {
		now, last, probe int64
		want             idleAction
	}{
		{now: 19 * s, last: 0 + 1, want: idleOK},
		{now: 20*s + 1, last: 1, want: idleProbe},
		{now: 22 * s, last: 1, probe: 20 * s, want: idleOK},
		{now: 23 * s, last: 1, probe: 20 * s, want: idleEject},
		{now: 100 * s, last: 99 * s, want: idleOK},
	} {
		if got := judgeIdle(c.now, c.last, c.probe, idle, timeout); got != c.want {
			t.Errorf("judgeIdle(%d, %d, %d) = %d, want %d", c.now, c.last, c.probe, got, c.want)
		}
	}
}

func registerRaw(t *testing.T, c *rawClient, service, ip string) {
	t.Helper()
	p := c.call(typeInstance, map[string]any{"type": "registerInstance", "serviceName": service,
		"instance": map[string]any{"ip": ip, "port": 80, "ephemeral": true}}, nil)
	if r := decodeResp(t, p); p.Type != typeInstanceResp || !r.Success {
		t.Fatalf("register %s: %s %s", ip, p.Type, p.Body)
	}
}

// TestSilentConnectionEjected: a connection silent for IdleProbe gets a
// ClientDetectionRequest; one that answers stays, one that does not is
// ejected with its instances. Time is passed to detect, not waited for.
func TestSilentConnectionEjected(t *testing.T) {
	f := start(t, nil, nil)
	alive, silent := dialRaw(t, f.port()), dialRaw(t, f.port())
	for _, c := range []*rawClient{alive, silent} {
		c.connect()
		c.ready()
	}
	registerRaw(t, alive, "probe", "10.5.0.1")
	registerRaw(t, silent, "probe", "10.5.0.2")

	t0 := time.Now()
	f.srv.detect(t0.Add(f.srv.cfg.IdleProbe + time.Second))
	for _, c := range []*rawClient{alive, silent} {
		p, err := c.next(2 * time.Second)
		if err != nil || p.Type != typeClientDetection {
			t.Fatalf("probe: %v %+v", err, p)
		}
		if c == alive {
			var req internalRequest
			_ = json.Unmarshal(p.Body, &req)
			ack, _ := json.Marshal(response{ResultCode: codeOK, Success: true, RequestID: req.RequestID})
			if err := c.bi.SendMsg(&Payload{Type: typeClientDetectResp, Body: ack}); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, 2*time.Second, "the answer taken", func() bool {
		n := 0
		for _, c := range f.srv.setUp() {
			if c.probe.Load() == 0 {
				n++
			}
		}
		return n == 1
	})
	f.srv.detect(t0.Add(f.srv.cfg.IdleProbe + f.srv.cfg.ProbeTimeout + 2*time.Second))
	waitFor(t, time.Second, "the silent connection's instance removed", func() bool {
		list := f.instances("", "", "probe")
		return len(list) == 1 && list[0].IP == "10.5.0.1"
	})
	if st := f.srv.Stats(); st.Ejected != 1 || st.Connections != 1 {
		t.Fatalf("stats after ejection: %+v", st)
	}
	if _, err := silent.next(time.Second); err == nil {
		// Anything but the end of the stream is wrong here.
		if _, err := silent.next(time.Second); err == nil {
			t.Fatal("the ejected stream is still open")
		}
	}
}

// TestCloseResetsClientsAndKeepsInstances: Close sends ConnectResetRequest
// and leaves the instances for the clients to register elsewhere.
func TestCloseResetsClientsAndKeepsInstances(t *testing.T) {
	f := start(t, nil, nil)
	c := dialRaw(t, f.port())
	c.connect()
	c.ready()
	registerRaw(t, c, "drain", "10.6.0.1")
	go func() {
		p, err := c.next(2 * time.Second)
		if err == nil && p.Type == typeConnectReset {
			_ = c.cc.Close() // the client moves on
		}
	}()
	start := time.Now()
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= f.srv.cfg.DrainTimeout {
		t.Fatalf("Close waited %v: the client's leaving was not noticed", d)
	}
	if n := len(f.instances("", "", "drain")); n != 1 {
		t.Fatalf("%d instances after a drain, want 1", n)
	}
}

// TestRenewBeatsAndRestores: a renewal round beats every bound instance
// and registers again one its owner lost.
func TestRenewBeatsAndRestores(t *testing.T) {
	f := start(t, nil, nil)
	c := dialRaw(t, f.port())
	c.connect()
	c.ready()
	registerRaw(t, c, "renew", "10.7.0.1")
	registerRaw(t, c, "renew", "10.7.0.2")
	before := f.instances("", "", "renew")[0].LastBeat()
	t0 := time.Now()
	f.srv.renew(t0) // nothing due yet
	if k := f.w.kinds(); k[naming.OpBeat] != 0 {
		t.Fatalf("%d beats before any was due", k[naming.OpBeat])
	}
	f.srv.renew(t0.Add(f.srv.cfg.RenewInterval + time.Second))
	if after := f.instances("", "", "renew")[0].LastBeat(); after <= before {
		t.Fatalf("last beat %d, before %d: not renewed", after, before)
	}
	key := naming.NewServiceKey("", "", "renew")
	if err := f.cat.Apply(naming.Op{Kind: naming.OpDeregister, Time: time.Now().UnixMilli(), Service: key, Ephemeral: true,
		Target: naming.InstanceKey{IP: "10.7.0.2", Port: 80, Cluster: "DEFAULT"}}); err != nil {
		t.Fatal(err)
	}
	f.srv.renew(t0.Add(2*f.srv.cfg.RenewInterval + 2*time.Second))
	if n := len(f.instances("", "", "renew")); n != 2 {
		t.Fatalf("%d instances after renewal, want the lost one back", n)
	}
	if st := f.srv.Stats(); st.Reregistered != 1 || st.Renewed != 4 || st.RenewRounds != 2 {
		t.Fatalf("renew stats: %+v", st)
	}
	k := f.w.kinds()
	if k[naming.OpBeat] != 4 {
		t.Fatalf("beats applied: %d, want 4 (2 instances x 2 rounds)", k[naming.OpBeat])
	}
}

// TestRenewEvery: instances whose beat timeout is short are beaten within
// a third of it.
func TestRenewEvery(t *testing.T) {
	for _, c := range []struct {
		md   map[string]string
		want time.Duration
	}{
		{nil, 5 * time.Second},
		{map[string]string{naming.MetaBeatTimeout: "3000"}, time.Second},
		{map[string]string{naming.MetaBeatTimeout: "600"}, minRenew},
		{map[string]string{naming.MetaBeatTimeout: "60000"}, 5 * time.Second},
	} {
		if got := renewEvery(5*time.Second, c.md); got != c.want {
			t.Errorf("renewEvery(%v) = %v, want %v", c.md, got, c.want)
		}
	}
}

// TestRenewDoesNotRestoreADeregisteredInstance: a renewal round that
// took its snapshot before the client deregistered does not bring the
// instance back.
func TestRenewDoesNotRestoreADeregisteredInstance(t *testing.T) {
	f := start(t, nil, nil)
	c := dialRaw(t, f.port())
	c.connect()
	c.ready()
	registerRaw(t, c, "gone", "10.7.1.1")
	stale := f.srv.bound.due(time.Now().Add(time.Hour).UnixMilli())
	p := c.call(typeInstance, map[string]any{"type": "deregisterInstance", "serviceName": "gone",
		"instance": map[string]any{"ip": "10.7.1.1", "port": 80}}, nil)
	if r := decodeResp(t, p); !r.Success {
		t.Fatalf("deregister: %s", p.Body)
	}
	for _, r := range stale {
		f.srv.renewOne(r, time.Now().UnixMilli())
	}
	if n := len(f.instances("", "", "gone")); n != 0 {
		t.Fatalf("a stale renewal brought back %d instances", n)
	}
}

// TestBatchRegisterReplacesTheConnectionsSet: a batch register makes the
// batch the connection's instances of the service.
func TestBatchRegisterReplacesTheConnectionsSet(t *testing.T) {
	f := start(t, nil, nil)
	c := dialRaw(t, f.port())
	c.connect()
	c.ready()
	batch := func(ips ...string) {
		var list []map[string]any
		for _, ip := range ips {
			list = append(list, map[string]any{"ip": ip, "port": 80, "ephemeral": true})
		}
		p := c.call(typeBatchInstance, map[string]any{"type": "batchRegisterInstance", "serviceName": "batch", "instances": list}, nil)
		if r := decodeResp(t, p); p.Type != typeBatchInstanceResp || !r.Success {
			t.Fatalf("batch: %s %s", p.Type, p.Body)
		}
	}
	batch("10.8.0.1", "10.8.0.2")
	batch("10.8.0.2", "10.8.0.3")
	var ips []string
	for _, in := range f.instances("", "", "batch") {
		ips = append(ips, in.IP)
	}
	if strings.Join(ips, ",") != "10.8.0.2,10.8.0.3" {
		t.Fatalf("instances after two batches: %v", ips)
	}
	// The operators' list of clients shows the connection and what it holds.
	cs := f.srv.Clients()
	if len(cs) != 1 || cs[0].Instances != 2 || cs[0].ConnectionID == "" || cs[0].Remote == "" || cs[0].IdleMillis < 0 {
		t.Fatalf("clients %+v", cs)
	}
}

type fakeAccess struct{}

func (fakeAccess) Enabled() bool { return true }

func (fakeAccess) Allow(token, ns string, write bool) error {
	switch {
	case token == "admin", token == "reader" && !write:
		return nil
	case token == "busy":
		return naming.Errorf(naming.ErrUnavailable, "too many password checks")
	}
	return errors.New("token invalid!")
}

// TestAccessRefusalIsTheHandlersType: a refused request gets its handler's
// own answer type with errorCode 403 and changes nothing.
func TestAccessRefusalIsTheHandlersType(t *testing.T) {
	f := start(t, nil, fakeAccess{})
	c := dialRaw(t, f.port())
	c.connect()
	c.ready()
	reg := map[string]any{"type": "registerInstance", "serviceName": "guarded", "instance": map[string]any{"ip": "10.9.0.1", "port": 80}}
	for _, tok := range []string{"", "bad", "reader"} {
		p := c.call(typeInstance, reg, map[string]string{"accessToken": tok})
		if r := decodeResp(t, p); p.Type != typeInstanceResp || r.ErrorCode != codeForbidden || r.Success || r.ResultCode != codeFail {
			t.Fatalf("register with token %q: %s %s", tok, p.Type, p.Body)
		}
	}
	if n := len(f.instances("", "", "guarded")); n != 0 {
		t.Fatalf("a refused register left %d instances", n)
	}
	p := c.call(typeSubscribe, map[string]any{"serviceName": "guarded", "subscribe": true}, map[string]string{"accessToken": "bad"})
	if r := decodeResp(t, p); p.Type != typeSubscribeResp || r.ErrorCode != codeForbidden {
		t.Fatalf("subscribe refused: %s %s", p.Type, p.Body)
	}
	if f.srv.Stats().Subscriptions != 0 {
		t.Fatal("a refused subscribe subscribed")
	}
	p = c.call(typeSubscribe, map[string]any{"serviceName": "guarded", "subscribe": true}, map[string]string{"accessToken": "reader"})
	if r := decodeResp(t, p); p.Type != typeSubscribeResp || !r.Success {
		t.Fatalf("subscribe with read rights: %s %s", p.Type, p.Body)
	}
	p = c.call(typeInstance, reg, map[string]string{"accessToken": "busy"})
	if r := decodeResp(t, p); r.ErrorCode != codeBusy {
		t.Fatalf("transient failure: %s %s", p.Type, p.Body)
	}
	p = c.call(typeInstance, reg, map[string]string{"accessToken": "admin"})
	if r := decodeResp(t, p); p.Type != typeInstanceResp || !r.Success {
		t.Fatalf("register with write rights: %s %s", p.Type, p.Body)
	}
}

// TestLimits: past each limit the client gets a clear error and nothing
// is half done.
func TestLimits(t *testing.T) {
	f := start(t, func(c *Config) {
		c.MaxConnections, c.MaxSubscriptionsPerConn, c.MaxInstancesPerConn, c.MaxMessageBytes = 1, 1, 1, 4096
	}, nil)
	c := dialRaw(t, f.port())
	c.connect()
	c.ready()

	// A second connection's stream is refused; its requests stay unregistered.
	c2 := dialRaw(t, f.port())
	c2.connect()
	if _, err := c2.next(2 * time.Second); err == nil {
		t.Fatal("the connection over the limit got a message instead of the end of its stream")
	}
	p := c2.call(typeHealthCheck, map[string]any{}, nil)
	if r := decodeResp(t, p); r.ErrorCode != codeUnregistered {
		t.Fatalf("request on a refused connection: %s %s", p.Type, p.Body)
	}
	if st := f.srv.Stats(); st.Refused != 1 || st.Connections != 1 {
		t.Fatalf("stats: %+v", st)
	}

	registerRaw(t, c, "limited", "10.10.0.1")
	p = c.call(typeInstance, map[string]any{"type": "registerInstance", "serviceName": "limited",
		"instance": map[string]any{"ip": "10.10.0.2", "port": 80}}, nil)
	if r := decodeResp(t, p); p.Type != typeError || r.ErrorCode != codeTooLarge || !strings.Contains(r.Message, "too many instances") {
		t.Fatalf("instance over the limit: %s %s", p.Type, p.Body)
	}
	if n := len(f.instances("", "", "limited")); n != 1 {
		t.Fatalf("%d instances: the refused one was written", n)
	}
	registerRaw(t, c, "limited", "10.10.0.1") // the same again is fine

	sub := func(name string) *Payload {
		return c.call(typeSubscribe, map[string]any{"serviceName": name, "subscribe": true}, nil)
	}
	if r := decodeResp(t, sub("a")); !r.Success {
		t.Fatal("first subscription refused")
	}
	p = sub("b")
	if r := decodeResp(t, p); p.Type != typeError || r.ErrorCode != codeTooLarge || !strings.Contains(r.Message, "too many subscriptions") {
		t.Fatalf("subscription over the limit: %s %s", p.Type, p.Body)
	}
	if n := f.srv.Stats().Subscriptions; n != 1 {
		t.Fatalf("%d subscriptions", n)
	}

	// A registration over MaxMessageBytes gets ErrorResponse 413 naming
	// both sizes, and writes nothing.
	big := c.call(typeInstance, map[string]any{"type": "registerInstance", "serviceName": "too-big",
		"instance": map[string]any{"ip": "10.10.0.3", "port": 80, "metadata": map[string]string{"pad": strings.Repeat("y", 8192)}}}, nil)
	if r := decodeResp(t, big); big.Type != typeError || r.ErrorCode != codeTooLarge || r.Success ||
		!strings.Contains(r.Message, "at most 4096") {
		t.Fatalf("message over the limit: %s %.200s", big.Type, big.Body)
	}
	if n := len(f.instances("", "", "too-big")); n != 0 {
		t.Fatalf("the message over the limit registered %d instances", n)
	}
	// Far over it (past what gRPC reads at all), gRPC refuses it itself
	// with RESOURCE_EXHAUSTED.
	var out Payload
	err := c.cc.Invoke(t.Context(), "/Request/request", &Payload{Type: typeInstance,
		Body: []byte(`{"x":"` + strings.Repeat("y", transportLimit(4096)) + `"}`)}, &out)
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "larger than max") {
		t.Fatalf("message far over the limit: %v", err)
	}
	registerRaw(t, c, "limited", "10.10.0.1") // the connection goes on

	// On the bi-stream, a message over the limit is answered there with
	// ErrorResponse 413, and the stream goes on.
	if err := c.bi.SendMsg(&Payload{Type: typeNotifySubResp, Body: []byte(`{"requestId":"` + strings.Repeat("9", 8192) + `"}`)}); err != nil {
		t.Fatal(err)
	}
	p, err = c.next(2 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r := decodeResp(t, p); p.Type != typeError || r.ErrorCode != codeTooLarge {
		t.Fatalf("stream message over the limit: %s %.200s", p.Type, p.Body)
	}
	if p := c.call(typeHealthCheck, map[string]any{}, nil); p.Type != typeHealthCheckResp {
		t.Fatalf("after a stream message over the limit: %s %s", p.Type, p.Body)
	}
}

// TestStreamMustStartWithSetup: a stream whose first message is not
// ConnectionSetupRequest is refused.
func TestStreamMustStartWithSetup(t *testing.T) {
	f := start(t, nil, nil)
	c := dialRaw(t, f.port())
	st, err := c.cc.NewStream(t.Context(), &biStreamDesc.Streams[0], "/BiRequestStream/requestBiStream")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SendMsg(&Payload{Type: typeHealthCheck, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	var p Payload
	err = st.RecvMsg(&p)
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("stream without setup: %v", err)
	}
}

// TestShedsOverMaxInFlight: with MaxInFlight naming requests being served,
// one more is answered 503 at once; health checks still pass.
func TestShedsOverMaxInFlight(t *testing.T) {
	f := start(t, func(c *Config) { c.MaxInFlight = 1 }, nil)
	c := dialRaw(t, f.port())
	c.connect()
	c.ready()
	f.w.gate = make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		registerRaw(t, c, "shed", "10.11.0.1")
	}()
	waitFor(t, 2*time.Second, "a register in flight", func() bool { return f.srv.Stats().InFlight == 1 })
	p := c.call(typeServiceQuery, map[string]any{"serviceName": "shed"}, nil)
	if r := decodeResp(t, p); p.Type != typeError || r.ErrorCode != codeBusy || !strings.Contains(r.Message, "busy") {
		t.Fatalf("request over MaxInFlight: %s %s", p.Type, p.Body)
	}
	if p := c.call(typeHealthCheck, map[string]any{}, nil); p.Type != typeHealthCheckResp {
		t.Fatalf("health check shed: %s %s", p.Type, p.Body)
	}
	close(f.w.gate)
	<-done
	if st := f.srv.Stats(); st.Shed != 1 || st.InFlight != 0 {
		t.Fatalf("stats: %+v", st)
	}
}

// TestReleaseRemovesAnInstanceRestampedByItsOwner: the responsible member
// stamps a registration after the versions it knows, so the SDK's two
// registrations in one millisecond leave a version a millisecond after
// this node's; the connection's end must still remove the instance. A
// version far later is the client's registration through another member,
// and stays.
func TestReleaseRemovesAnInstanceRestampedByItsOwner(t *testing.T) {
	f := start(t, nil, nil)
	key := naming.NewServiceKey("", "", "restamped")
	for i, tc := range []struct {
		ip   string
		skew int64
		kept bool
	}{{"10.7.0.1", 1, false}, {"10.7.0.2", 5000, true}} {
		at := int64(1_000_000 + i)
		in := &naming.Instance{IP: tc.ip, Port: 80, Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}
		if err := f.cat.Apply(naming.Op{Kind: naming.OpRegister, Time: at + tc.skew, Service: key, Instance: in}); err != nil {
			t.Fatal(err)
		}
		f.srv.deregister(instRef{svc: key, ik: in.Key()}, at)
		svc, _ := f.cat.Service(key)
		if kept := svc != nil && svc.Find(in.Key()) != nil; kept != tc.kept {
			t.Fatalf("version %d ms after this node's registration: kept %v, want %v", tc.skew, kept, tc.kept)
		}
	}
}
