package grpcfront

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"sextant/naming"
)

// ready waits until requests on the connection are served (the setup is
// taken on the stream's goroutine, as the Java client's 100 ms wait assumes).
func (c *rawClient) ready() {
	c.t.Helper()
	waitFor(c.t, 3*time.Second, "connection set up", func() bool {
		return c.call(typeHealthCheck, map[string]any{"module": "internal"}, nil).Type == typeHealthCheckResp
	})
}

func TestPayloadRoundTrip(t *testing.T) {
	in := &Payload{Type: "InstanceRequest", ClientIP: "10.0.0.1", Headers: map[string]string{"accessToken": "t", "app": "a"},
		Body: []byte(`{"x":1}`)}
	var out Payload
	if err := out.unmarshal(in.marshal()); err != nil {
		t.Fatal(err)
	}
	if out.Type != in.Type || out.ClientIP != in.ClientIP || string(out.Body) != string(in.Body) ||
		out.Headers["accessToken"] != "t" || out.Headers["app"] != "a" || len(out.Headers) != 2 {
		t.Fatalf("round trip: %+v", out)
	}
	if err := out.unmarshal([]byte{0x12, 0x05, 0x1a}); err == nil {
		t.Fatal("a truncated payload decoded")
	}
}

// TestJavaWireShapes sends exactly what a Java 2.x client sends and checks
// what it insists on getting back.
func TestJavaWireShapes(t *testing.T) {
	f := start(t, nil, nil)
	c := dialRaw(t, f.port())

	// Before the stream is set up: 301 for everything but ServerCheck.
	p := c.call(typeHealthCheck, map[string]any{"module": "internal"}, nil)
	if r := decodeResp(t, p); p.Type != typeError || r.ErrorCode != codeUnregistered || r.Success || r.ResultCode != codeFail {
		t.Fatalf("request before setup: %s %s", p.Type, p.Body)
	}

	c.connect()
	if !strings.Contains(c.id, "_127.0.0.1_") {
		t.Fatalf("connection id %q does not name the peer", c.id)
	}
	// A second ServerCheck on the same HTTP/2 connection names the same connection.
	var again serverCheckResponse
	_ = json.Unmarshal(c.call(typeServerCheck, map[string]any{"module": "internal"}, nil).Body, &again)
	if again.ConnectionID != c.id || again.SupportAbilityNegotiation {
		t.Fatalf("second ServerCheckResponse: %+v, first id %q", again, c.id)
	}
	c.ready()

	// Java leaves out null fields: no clusterName, weight, healthy or metadata.
	reg := []byte(`{"type":"registerInstance","instance":{"ip":"10.1.0.1","port":8080,"ephemeral":true},` +
		`"namespace":"public","serviceName":"java-svc","groupName":"DEFAULT_GROUP","module":"naming"}`)
	p = c.call(typeInstance, reg, map[string]string{"app": "demo"})
	r := decodeResp(t, p)
	if p.Type != typeInstanceResp || !r.Success || r.ResultCode != codeOK {
		t.Fatalf("register: %s %s", p.Type, p.Body)
	}
	if bytes.Contains(p.Body, []byte("null")) {
		t.Fatalf("answer holds a null field: %s", p.Body)
	}
	list := f.instances("public", "DEFAULT_GROUP", "java-svc")
	if len(list) != 1 || list[0].Cluster != naming.DefaultCluster || list[0].Weight != 1 || !list[0].Healthy || !list[0].Enabled {
		t.Fatalf("registered instance: %+v", list)
	}

	// Subscribe: bare name with groupName beside it, clusters echoed.
	p = c.call(typeSubscribe, map[string]any{"namespace": "public", "serviceName": "java-svc", "groupName": "DEFAULT_GROUP",
		"subscribe": true, "clusters": "DEFAULT", "module": "naming"}, nil)
	var sub serviceInfoResponse
	if err := json.Unmarshal(p.Body, &sub); err != nil || p.Type != typeSubscribeResp || sub.ServiceInfo == nil {
		t.Fatalf("subscribe: %s %s", p.Type, p.Body)
	}
	si := sub.ServiceInfo
	if si.Name != "java-svc" || si.GroupName != "DEFAULT_GROUP" || si.Clusters != "DEFAULT" || len(si.Hosts) != 1 ||
		si.Hosts[0].ServiceName != "DEFAULT_GROUP@@java-svc" || si.Hosts[0].InstanceID != "10.1.0.1#8080#DEFAULT#DEFAULT_GROUP@@java-svc" {
		t.Fatalf("serviceInfo: %+v", si)
	}
	if bytes.Contains(p.Body, []byte("null")) {
		t.Fatalf("subscribe answer holds a null field: %s", p.Body)
	}

	// Unknown type: 302. Unparsable body: 502. Wrong field types: 502.
	p = c.call("ConfigQueryRequest", map[string]any{"dataId": "x"}, nil)
	if r := decodeResp(t, p); p.Type != typeError || r.ErrorCode != codeNoHandler {
		t.Fatalf("unknown type: %s %s", p.Type, p.Body)
	}
	p = c.call(typeInstance, []byte(`{"type":`), nil)
	if r := decodeResp(t, p); p.Type != typeError || r.ErrorCode != codeParse {
		t.Fatalf("bad body: %s %s", p.Type, p.Body)
	}
	p = c.call(typeInstance, []byte(`{"type":"registerInstance","serviceName":"x","instance":{"ip":"10.0.0.1","port":"80"}}`), nil)
	if r := decodeResp(t, p); p.Type != typeError || r.ErrorCode != codeParse {
		t.Fatalf("wrong field type: %s %s", p.Type, p.Body)
	}
	// Invalid input: 400, nothing registered.
	p = c.call(typeInstance, map[string]any{"type": "registerInstance", "serviceName": "java-svc",
		"instance": map[string]any{"ip": "not-an-ip", "port": 1}}, nil)
	if r := decodeResp(t, p); p.Type != typeError || r.ErrorCode != codeBadRequest || !strings.Contains(r.Message, "illegal ip") {
		t.Fatalf("bad ip: %s %s", p.Type, p.Body)
	}
	if n := len(f.instances("public", "DEFAULT_GROUP", "java-svc")); n != 1 {
		t.Fatalf("a refused register changed the catalog: %d instances", n)
	}

	// Persistent instance (Java 2.3): not bound to the connection.
	p = c.call(typePersistentInstance, map[string]any{"type": "registerInstance", "serviceName": "java-db",
		"instance": map[string]any{"ip": "10.1.0.2", "port": 5432, "ephemeral": false}}, nil)
	if r := decodeResp(t, p); p.Type != typeInstanceResp || !r.Success {
		t.Fatalf("persistent register: %s %s", p.Type, p.Body)
	}

	// Service list: bare names.
	p = c.call(typeServiceList, map[string]any{"namespace": "public", "groupName": "DEFAULT_GROUP", "pageNo": 1, "pageSize": 10}, nil)
	var sl serviceListResponse
	if err := json.Unmarshal(p.Body, &sl); err != nil || p.Type != typeServiceListResp || sl.Count != 2 ||
		strings.Join(sl.ServiceNames, ",") != "java-db,java-svc" {
		t.Fatalf("service list: %s %s", p.Type, p.Body)
	}

	// The connection ends: the ephemeral instance goes, the persistent stays.
	_ = c.cc.Close()
	waitFor(t, time.Second, "ephemeral instance removed", func() bool {
		return len(f.instances("public", "DEFAULT_GROUP", "java-svc")) == 0
	})
	if n := len(f.instances("public", "DEFAULT_GROUP", "java-db")); n != 1 {
		t.Fatalf("persistent instance went with the connection: %d", n)
	}
}

// TestServerCheckWhileNotReady: errorCode 300 while the node is not ready,
// so clients wait and ask again.
func TestServerCheckWhileNotReady(t *testing.T) {
	f := start(t, nil, nil)
	f.st.set(errors.New("loading from peers"))
	c := dialRaw(t, f.port())
	p := c.call(typeServerCheck, map[string]any{"module": "internal"}, nil)
	if r := decodeResp(t, p); r.ErrorCode != codeStarting || r.Success {
		t.Fatalf("not ready: %s %s", p.Type, p.Body)
	}
	f.st.set(nil)
	p = c.call(typeServerCheck, map[string]any{"module": "internal"}, nil)
	if r := decodeResp(t, p); p.Type != typeServerCheckResp || !r.Success {
		t.Fatalf("ready: %s %s", p.Type, p.Body)
	}
}

// TestPushAckAndRetry: a push is sent with a unique requestId, sent again
// with a new one when unacked, and settled by the ack.
func TestPushAckAndRetry(t *testing.T) {
	f := start(t, func(c *Config) { c.PushAckTimeout = 200 * time.Millisecond; c.PushMergeDelay = 0 }, nil)
	c := dialRaw(t, f.port())
	c.connect()
	c.ready()
	p := c.call(typeSubscribe, map[string]any{"serviceName": "pushed", "subscribe": true}, nil)
	var sub serviceInfoResponse
	_ = json.Unmarshal(p.Body, &sub)
	if sub.ServiceInfo == nil || len(sub.ServiceInfo.Hosts) != 0 {
		t.Fatalf("subscribe to an unknown service: %s", p.Body)
	}
	last := sub.ServiceInfo.LastRefTime
	if err := f.w.Apply(t.Context(), naming.Op{Kind: naming.OpRegister, Service: naming.NewServiceKey("", "", "pushed"),
		Instance: &naming.Instance{IP: "10.2.0.1", Port: 1, Cluster: "DEFAULT", Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for len(ids) < 2 {
		p, err := c.next(2 * time.Second)
		if err != nil {
			t.Fatalf("push %d: %v", len(ids)+1, err)
		}
		if p.Type != typeNotifySubscriber {
			continue
		}
		var n notifyRequest
		if err := json.Unmarshal(p.Body, &n); err != nil {
			t.Fatalf("push body %s: %v", p.Body, err)
		}
		if n.ServiceName != "pushed" || n.GroupName != "DEFAULT_GROUP" || n.ServiceInfo == nil || len(n.ServiceInfo.Hosts) != 1 ||
			n.ServiceInfo.LastRefTime <= last || n.RequestID == "" {
			t.Fatalf("push: %s (last %d)", p.Body, last)
		}
		for _, id := range ids {
			if id == n.RequestID {
				t.Fatalf("requestId %s used twice", id)
			}
		}
		ids = append(ids, n.RequestID)
	}
	// Ack the resend: nothing more arrives, one push counted acked.
	ack, _ := json.Marshal(response{ResultCode: codeOK, Success: true, RequestID: ids[1]})
	if err := c.bi.SendMsg(&Payload{Type: typeNotifySubResp, Body: ack}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "ack counted", func() bool { return f.srv.Stats().PushAcked == 1 })
	if p, err := c.next(500 * time.Millisecond); err == nil && p.Type == typeNotifySubscriber {
		t.Fatalf("an acked push was sent again: %s", p.Body)
	}
}

// TestPushEncoding: a render's push decodes to a NotifySubscriberRequest
// with the render's requestId, and a resend's copy differs in that id
// only.
func TestPushEncoding(t *testing.T) {
	f := start(t, nil, nil)
	r := f.srv.renderPush(naming.NewServiceKey("", "", "enc"), "")
	decodePush := func(p *Payload) notifyRequest {
		var out Payload
		if err := out.unmarshal(p.marshal()); err != nil || out.Type != typeNotifySubscriber {
			t.Fatalf("push %q: %v", out.Type, err)
		}
		var n notifyRequest
		if err := json.Unmarshal(out.Body, &n); err != nil {
			t.Fatalf("push body %s: %v", out.Body, err)
		}
		return n
	}
	first := decodePush(f.srv.encodePush(r.id, r))
	id := f.srv.nextID()
	again := decodePush(f.srv.encodePush(id, r))
	if first.RequestID != r.id || again.RequestID != id || id == r.id || len(id) != idWidth {
		t.Fatalf("ids: first %q (render %q), resend %q (asked %q)", first.RequestID, r.id, again.RequestID, id)
	}
	again.RequestID = first.RequestID
	if a, b := mustJSON(first), mustJSON(again); !bytes.Equal(a, b) {
		t.Fatalf("the resend differs beyond its id:\n%s\n%s", a, b)
	}
	if first.ServiceName != "enc" || first.ServiceInfo == nil || first.ServiceInfo.Name != "enc" {
		t.Fatalf("push: %+v", first)
	}
}
