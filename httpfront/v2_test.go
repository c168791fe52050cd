package httpfront

import (
	"bytes"
	"errors"
	"net"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// v2 decodes a v2 answer: the status, the envelope's code and message,
// and its data.
func v2(t *testing.T, rec *httptest.ResponseRecorder, status, code int, message string) any {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %q", rec.Code, status, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != jsonType {
		t.Fatalf("Content-Type %q", ct)
	}
	m := decode(t, rec)
	if len(m) != 3 || m["code"] != float64(code) || m["message"] != message {
		t.Fatalf("envelope %v, want code %d message %q", m, code, message)
	}
	if _, ok := m["data"]; !ok {
		t.Fatalf("envelope without data: %v", m)
	}
	return m["data"]
}

func obj(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("data %v is not an object", v)
	}
	return m
}

// wantFields checks that m has exactly the keys of want where want gives
// a value, and at least the keys want lists with nil.
func wantFields(t *testing.T, what string, m map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		got, ok := m[k]
		if !ok {
			t.Fatalf("%s: no field %q in %v", what, k, m)
		}
		if v != nil && !reflect.DeepEqual(got, v) {
			t.Fatalf("%s: %s = %#v, want %#v", what, k, got, v)
		}
	}
}

func TestV2InstanceAPI(t *testing.T) {
	for name, e := range map[string]*env{"gin": newEnv(t), "wire": newWireEnv(t)} {
		t.Run(name, func(t *testing.T) {
			const base = "/nacos/v2/ns/instance"
			reg := "serviceName=demo&ip=10.0.0.1&port=8080&metadata=" + url.QueryEscape(`{"zone":"a"}`)
			if d := v2(t, e.req("POST", base, reg), 200, 0, "success"); d != "ok" {
				t.Fatalf("register data %v", d)
			}
			d := obj(t, v2(t, e.req("GET", base+"?serviceName=demo&ip=10.0.0.1&port=8080", ""), 200, 0, "success"))
			wantFields(t, "instance", d, map[string]any{"serviceName": "DEFAULT_GROUP@@demo", "ip": "10.0.0.1", "port": 8080.0,
				"clusterName": "DEFAULT", "weight": 1.0, "healthy": true, "instanceId": "10.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@demo",
				"metadata": map[string]any{"zone": "a"}})
			if _, has := d["service"]; has {
				t.Fatalf("v1's service field in %v", d)
			}

			d = obj(t, v2(t, e.req("GET", base+"/list?serviceName=demo", "", "User-Agent", goUA), 200, 0, "success"))
			wantFields(t, "list", d, map[string]any{"name": "DEFAULT_GROUP@@demo", "groupName": "DEFAULT_GROUP", "clusters": "",
				"cacheMillis": 10000.0, "lastRefTime": nil, "checksum": nil, "allIPs": false, "reachProtectionThreshold": false, "valid": true})
			for _, v1only := range []string{"dom", "env", "useSpecifiedURL"} {
				if _, has := d[v1only]; has {
					t.Fatalf("list has v1's %s: %v", v1only, d)
				}
			}
			hosts := d["hosts"].([]any)
			if len(hosts) != 1 {
				t.Fatalf("hosts %v", hosts)
			}
			wantFields(t, "host", obj(t, hosts[0]), map[string]any{"instanceId": "10.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@demo",
				"ip": "10.0.0.1", "port": 8080.0, "weight": 1.0, "healthy": true, "enabled": true, "ephemeral": true,
				"clusterName": "DEFAULT", "serviceName": "DEFAULT_GROUP@@demo", "metadata": map[string]any{"zone": "a"},
				"instanceHeartBeatInterval": 5000.0, "instanceHeartBeatTimeOut": 15000.0, "ipDeleteTimeout": 30000.0})
			d = obj(t, v2(t, e.req("GET", base+"/list?serviceName=demo&clusterName=other", ""), 200, 0, "success"))
			if d["clusters"] != "other" || len(d["hosts"].([]any)) != 0 {
				t.Fatalf("list of cluster other: %v", d)
			}

			// Beat, statuses and PATCH answer unwrapped, as in Nacos 2.x.
			m := decode(t, e.must(200, "PUT", base+"/beat", "serviceName=DEFAULT_GROUP@@demo&ip=10.0.0.1&port=8080"))
			if !reflect.DeepEqual(m, map[string]any{"clientBeatInterval": 5000.0, "code": 10200.0, "lightBeatEnabled": true}) {
				t.Fatalf("beat %v", m)
			}
			m = decode(t, e.must(200, "GET", base+"/statuses/DEFAULT_GROUP@@demo", ""))
			if !reflect.DeepEqual(m, map[string]any{"ips": []any{"10.0.0.1:8080_true"}}) {
				t.Fatalf("statuses %v", m)
			}
			if b := e.must(200, "PATCH", base, "serviceName=DEFAULT_GROUP@@demo&ip=10.0.0.1&port=8080&weight=2").Body.String(); b != "ok" {
				t.Fatalf("patch %q", b)
			}
			if d := v2(t, e.req("PUT", base, "serviceName=demo&ip=10.0.0.1&port=8080&weight=3"), 200, 0, "success"); d != "ok" {
				t.Fatalf("update %v", d)
			}
			if w := e.service(demo).Instances[0].Weight; w != 3 {
				t.Fatalf("weight %v after update", w)
			}
			// PUT updates an existing instance only.
			d2 := v2(t, e.req("PUT", base, "serviceName=demo&ip=10.0.0.9&port=8080"), 400, 21003, "instance not found")
			if s, _ := d2.(string); s == "" {
				t.Fatalf("error data %v", d2)
			}
			d = obj(t, v2(t, e.req("PUT", base+"/metadata/batch", "serviceName=demo&metadata="+url.QueryEscape(`{"rack":"r1"}`)), 200, 0, "success"))
			if up, _ := d["updated"].([]any); len(up) != 1 {
				t.Fatalf("batch %v", d)
			}
			// Health is set by hand only where the checker is NONE.
			v2(t, e.req("PUT", "/nacos/v2/ns/health/instance", "serviceName=demo&ip=10.0.0.1&port=8080&healthy=false"), 400, 21011, "health check still running")
			v2(t, e.req("PUT", "/nacos/v2/ns/health/instance", "serviceName=demo&ip=10.0.0.1&port=8080"), 400, 21010, "healthy param miss")

			// Errors: missing and malformed parameters, missing things.
			if d := v2(t, e.req("GET", base, ""), 400, 10000, "parameter missing"); d != "Param 'serviceName' is required." {
				t.Fatalf("missing: %v", d)
			}
			v2(t, e.req("POST", base, "serviceName=demo&ip=10.0.0.1&port=http"), 400, 20002, "parameter validate error")
			v2(t, e.req("GET", base+"?serviceName=nope&ip=10.0.0.1&port=1", ""), 404, 21003, "instance not found")
			if d := v2(t, e.req("DELETE", base, "serviceName=demo&ip=10.0.0.1&port=8080"), 200, 0, "success"); d != "ok" {
				t.Fatalf("deregister %v", d)
			}
			if len(e.service(demo).Instances) != 0 {
				t.Fatal("instance not removed")
			}
		})
	}
}

func TestV2ServiceAPI(t *testing.T) {
	e := newEnv(t)
	const base = "/nacos/v2/ns/service"
	if d := v2(t, e.req("POST", base, "serviceName=orders&groupName=shop&protectThreshold=0.5&metadata="+url.QueryEscape(`{"team":"x"}`)), 200, 0, "success"); d != "ok" {
		t.Fatalf("create %v", d)
	}
	v2(t, e.req("POST", base, "serviceName=orders&groupName=shop"), 400, 21007, "service already exist")
	d := obj(t, v2(t, e.req("GET", base+"?serviceName=orders&groupName=shop", ""), 200, 0, "success"))
	wantFields(t, "service", d, map[string]any{"namespace": "public", "serviceName": "orders", "groupName": "shop",
		"clusterMap": map[string]any{}, "metadata": map[string]any{"team": "x"}, "protectThreshold": 0.5,
		"selector": map[string]any{"type": "none"}, "ephemeral": false})
	if len(d) != 8 {
		t.Fatalf("service fields %v", d)
	}
	// PUT without protectThreshold keeps it (v1 requires it).
	v2(t, e.req("PUT", base, "serviceName=orders&groupName=shop&metadata="+url.QueryEscape(`{"team":"y"}`)), 200, 0, "success")
	d = obj(t, v2(t, e.req("GET", base+"?serviceName=orders&groupName=shop", ""), 200, 0, "success"))
	if d["protectThreshold"] != 0.5 || !reflect.DeepEqual(d["metadata"], map[string]any{"team": "y"}) {
		t.Fatalf("after update %v", d)
	}
	v2(t, e.req("GET", base+"?serviceName=nope", ""), 404, 21008, "service not exist")
	v2(t, e.req("DELETE", base, "serviceName=nope"), 400, 21008, "service not exist")

	for i, name := range []string{"a", "b", "c"} {
		e.must(200, "POST", "/nacos/v1/ns/instance", "serviceName="+name+"&ip=10.0.0.1&port="+string(rune('1'+i)))
	}
	d = obj(t, v2(t, e.req("GET", base+"/list", ""), 200, 0, "success"))
	if !reflect.DeepEqual(d, map[string]any{"count": 3.0, "services": []any{"a", "b", "c"}}) {
		t.Fatalf("list %v", d)
	}
	d = obj(t, v2(t, e.req("GET", base+"/list?pageNo=2&pageSize=2", ""), 200, 0, "success"))
	if !reflect.DeepEqual(d, map[string]any{"count": 3.0, "services": []any{"c"}}) {
		t.Fatalf("page 2 %v", d)
	}
	d = obj(t, v2(t, e.req("GET", base+"/list?groupName=shop&pageSize=2147483647", ""), 200, 0, "success"))
	if !reflect.DeepEqual(d, map[string]any{"count": 1.0, "services": []any{"orders"}}) {
		t.Fatalf("group shop %v", d)
	}
	if d := v2(t, e.req("DELETE", base, "serviceName=orders&groupName=shop"), 200, 0, "success"); d != "ok" {
		t.Fatalf("delete %v", d)
	}

	d = obj(t, v2(t, e.req("GET", "/nacos/v2/ns/catalog/instances?serviceName=a&pageNo=1&pageSize=10", ""), 200, 0, "success"))
	if d["count"] != 1.0 || len(d["list"].([]any)) != 1 {
		t.Fatalf("catalog %v", d)
	}
	d = obj(t, v2(t, e.req("GET", "/nacos/v2/ns/catalog/instances?serviceName=a&pageNo=1&pageSize=10&healthyOnly=true", ""), 200, 0, "success"))
	if d["count"] != 1.0 {
		t.Fatalf("catalog healthy %v", d)
	}
}

func TestV2OperatorClientsAndCluster(t *testing.T) {
	e := newEnv(t)
	if d := obj(t, v2(t, e.req("GET", "/nacos/v2/ns/operator/metrics", ""), 200, 0, "success")); !reflect.DeepEqual(d, map[string]any{"status": "UP"}) {
		t.Fatalf("metrics %v", d)
	}
	if d := obj(t, v2(t, e.req("GET", "/nacos/v2/ns/operator/metrics?onlyStatus=false", ""), 200, 0, "success")); d["serviceCount"] == nil {
		t.Fatalf("full metrics %v", d)
	}
	d := obj(t, v2(t, e.req("GET", "/nacos/v2/ns/ops/switches", ""), 200, 0, "success"))
	wantFields(t, "switches", d, map[string]any{"defaultCacheMillis": 3000.0, "clientBeatInterval": 5000.0, "lightBeatEnabled": true})
	v2(t, e.req("PUT", "/nacos/v2/ns/operator/switches", "entry=defaultCacheMillis&value=4000"), 200, 0, "success")
	if e.cat.Switches().DefaultCacheMillis != 4000 {
		t.Fatal("switch not set")
	}
	v2(t, e.req("PUT", "/nacos/v2/ns/operator/switches", "entry=defaultCacheMillis"), 400, 10000, "parameter missing")

	e.must(200, "POST", "/nacos/v1/ns/instance", "serviceName=demo&ip=10.0.0.1&port=8080")
	e.must(200, "POST", "/nacos/v1/ns/instance", "serviceName=demo&ip=10.0.0.2&port=8080&ephemeral=false")
	ids := v2(t, e.req("GET", "/nacos/v2/ns/client/list", ""), 200, 0, "success")
	if !reflect.DeepEqual(ids, []any{"10.0.0.1:8080#true", "10.0.0.2:8080#false"}) {
		t.Fatalf("clients %v", ids)
	}
	d = obj(t, v2(t, e.req("GET", "/nacos/v2/ns/client?clientId=10.0.0.1:8080%23true", ""), 200, 0, "success"))
	wantFields(t, "client", d, map[string]any{"clientId": "10.0.0.1:8080#true", "ephemeral": true, "clientType": "ipPort",
		"clientIp": "10.0.0.1", "clientPort": 8080.0, "lastUpdatedTime": nil})
	pub := v2(t, e.req("GET", "/nacos/v2/ns/client/publish/list?clientId=10.0.0.2:8080%23false", ""), 200, 0, "success")
	want := []any{map[string]any{"namespace": "public", "group": "DEFAULT_GROUP", "serviceName": "demo",
		"registeredInstance": map[string]any{"ip": "10.0.0.2", "port": 8080.0, "cluster": "DEFAULT"}}}
	if !reflect.DeepEqual(pub, want) {
		t.Fatalf("published %v", pub)
	}
	if sub := v2(t, e.req("GET", "/nacos/v2/ns/client/subscribe/list?clientId=10.0.0.2:8080%23false", ""), 200, 0, "success"); !reflect.DeepEqual(sub, []any{}) {
		t.Fatalf("subscribed %v", sub)
	}
	v2(t, e.req("GET", "/nacos/v2/ns/client?clientId=10.9.9.9:1%23true", ""), 404, 20004, "resource not found")
	v2(t, e.req("GET", "/nacos/v2/ns/client", ""), 400, 10000, "parameter missing")
	pubs := v2(t, e.req("GET", "/nacos/v2/ns/client/service/publisher/list?serviceName=demo", ""), 200, 0, "success")
	if !reflect.DeepEqual(pubs, []any{map[string]any{"clientId": "10.0.0.1:8080#true", "ip": "10.0.0.1", "port": 8080.0}}) {
		t.Fatalf("publishers %v", pubs)
	}
	pubs = v2(t, e.req("GET", "/nacos/v2/ns/client/service/publisher/list?serviceName=demo&ephemeral=false", ""), 200, 0, "success")
	if len(pubs.([]any)) != 1 {
		t.Fatalf("persistent publishers %v", pubs)
	}
	if subs := v2(t, e.req("GET", "/nacos/v2/ns/client/service/subscriber/list?serviceName=demo", ""), 200, 0, "success"); !reflect.DeepEqual(subs, []any{}) {
		t.Fatalf("subscribers %v", subs)
	}

	d = obj(t, v2(t, e.req("GET", "/nacos/v2/core/cluster/node/self", ""), 200, 0, "success"))
	wantFields(t, "self", d, map[string]any{"ip": "10.0.0.5", "port": 8848.0, "state": "UP", "address": "10.0.0.5:8848"})
	if nodes := v2(t, e.req("GET", "/nacos/v2/core/cluster/node/list", ""), 200, 0, "success"); len(nodes.([]any)) != 2 {
		t.Fatalf("nodes %v", nodes)
	}
	if nodes := v2(t, e.req("GET", "/nacos/v2/core/cluster/node/list?state=DOWN", ""), 200, 0, "success"); len(nodes.([]any)) != 1 {
		t.Fatalf("down nodes %v", nodes)
	}
	if nodes := v2(t, e.req("GET", "/nacos/v2/core/cluster/node/list?address=10.0.0.6", ""), 200, 0, "success"); len(nodes.([]any)) != 1 {
		t.Fatalf("nodes at 10.0.0.6 %v", nodes)
	}
	if h := v2(t, e.req("GET", "/nacos/v2/core/cluster/node/self/health", ""), 200, 0, "success"); h != "UP" {
		t.Fatalf("self health %v", h)
	}
}

func TestV2Namespaces(t *testing.T) {
	e := newEnv(t)
	const base = "/nacos/v2/console/namespace"
	if d := v2(t, e.req("POST", base, "namespaceId=dev&namespaceName=Dev&namespaceDesc=d"), 200, 0, "success"); d != true {
		t.Fatalf("create %v", d)
	}
	list := v2(t, e.req("GET", base+"/list", ""), 200, 0, "success").([]any)
	if len(list) != 2 || obj(t, list[1])["namespace"] != "dev" {
		t.Fatalf("list %v", list)
	}
	d := obj(t, v2(t, e.req("GET", base+"?namespaceId=dev", ""), 200, 0, "success"))
	wantFields(t, "namespace", d, map[string]any{"namespace": "dev", "namespaceShowName": "Dev", "namespaceDesc": "d",
		"quota": 200.0, "configCount": 0.0, "type": 2.0})
	v2(t, e.req("GET", base, ""), 400, 10000, "parameter missing")
	v2(t, e.req("GET", base+"?namespaceId=nope", ""), 404, 22001, "namespace not exist")
	if d := v2(t, e.req("PUT", base, "namespaceId=dev&namespaceName=Development"), 200, 0, "success"); d != true {
		t.Fatalf("update %v", d)
	}
	if n, _ := e.cat.Namespace("dev"); n.Name != "Development" {
		t.Fatalf("namespace after update %+v", n)
	}
	if d := v2(t, e.req("DELETE", base, "namespaceId=dev"), 200, 0, "success"); d != true {
		t.Fatalf("delete %v", d)
	}
	v2(t, e.req("DELETE", base, "namespaceId=dev"), 404, 22001, "namespace not exist")
}

func TestV2Refusals(t *testing.T) {
	e := newAuthEnv(t, true)
	d := v2(t, e.req("POST", "/nacos/v2/ns/instance", "serviceName=demo&ip=10.0.0.1&port=80"), 403, 10001, "access denied")
	if d != "user not found!" {
		t.Fatalf("denied data %v", d)
	}
	v2(t, e.req("GET", "/nacos/v2/ns/client/list", ""), 403, 10001, "access denied")
	tok := url.QueryEscape(e.login("nacos", "admin-pass-1"))
	v2(t, e.req("POST", "/nacos/v2/ns/instance?accessToken="+tok, "serviceName=demo&ip=10.0.0.1&port=80"), 200, 0, "success")
	// Metrics need no login, as in v1.
	v2(t, e.req("GET", "/nacos/v2/ns/operator/metrics", ""), 200, 0, "success")

	// Health checks need no login.
	if d := v2(t, e.req("GET", "/nacos/v2/console/health/liveness", ""), 200, 0, "success"); d != "ok" {
		t.Fatalf("liveness %v", d)
	}
	if d := v2(t, e.req("GET", "/nacos/v2/console/health/readiness", ""), 200, 0, "success"); d != "ok" {
		t.Fatalf("readiness %v", d)
	}

	e.cl.setReady(errors.New("loading"))
	v2(t, e.req("GET", "/nacos/v2/ns/instance/list?serviceName=demo&accessToken="+tok, ""), 503, 30000, "server error")
	if d := v2(t, e.req("GET", "/nacos/v2/console/health/readiness", ""), 503, 30000, "server error"); d != "loading" {
		t.Fatalf("readiness of a node not ready: %v", d)
	}
}

// TestV2ListSubscribesForPush: v2's instance/list with 2.x's ip and port
// (or v1's clientIP and udpPort) subscribes the caller as v1's list does:
// a change is pushed to its UDP socket, the subscriber shows in the
// client views; without a port, or from a client Nacos does not push to,
// nothing is subscribed.
func TestV2ListSubscribesForPush(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Push.MergeDelay = 20 * time.Millisecond })
	e.start()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	port := strconv.Itoa(udp.LocalAddr().(*net.UDPAddr).Port)
	e.register(demo, healthyInstance("10.0.0.1", 80))

	for _, q := range []struct{ ua, q string }{{goUA, "serviceName=demo"}, {goUA, "serviceName=demo&port=0"}, {"curl/8", "serviceName=demo&ip=127.0.0.1&port=" + port}} {
		v2(t, e.req("GET", "/nacos/v2/ns/instance/list?"+q.q, "", "User-Agent", q.ua), 200, 0, "success")
	}
	if subs := e.s.push.Subscribers(demo); len(subs) != 0 {
		t.Fatalf("subscribed without a port or from curl: %+v", subs)
	}
	data := obj(t, v2(t, e.req("GET", "/nacos/v2/ns/instance/list?serviceName=demo&ip=127.0.0.1&port="+port, "", "User-Agent", goUA), 200, 0, "success"))
	if data["name"] != "DEFAULT_GROUP@@demo" {
		t.Fatalf("list %v", data)
	}
	subs := e.s.push.Subscribers(demo)
	if len(subs) != 1 || subs[0].Addr.String() != "127.0.0.1:"+port || subs[0].Agent != goUA {
		t.Fatalf("subscribers %+v", subs)
	}
	if got := v2(t, e.req("GET", "/nacos/v2/ns/client/service/subscriber/list?serviceName=demo", ""), 200, 0, "success"); len(got.([]any)) != 1 {
		t.Fatalf("subscriber list %v", got)
	}
	// v1's names for the same thing.
	v2(t, e.req("GET", "/nacos/v2/ns/instance/list?serviceName=demo&clientIP=127.0.0.1&udpPort="+port, "", "User-Agent", goUA), 200, 0, "success")
	if n := len(e.s.push.Subscribers(demo)); n != 1 {
		t.Fatalf("%d subscribers after the same subscription in v1's names", n)
	}
	v2(t, e.req("GET", "/nacos/v2/ns/instance/list?serviceName=demo&port=70000", "", "User-Agent", goUA), 400, 20002, "parameter validate error")

	e.register(demo, healthyInstance("10.0.0.2", 80))
	pkt, _, _ := readPush(t, udp, 5*time.Second)
	if !bytes.Contains(pkt, []byte(`"type":"dom"`)) || !bytes.Contains(pkt, []byte(`10.0.0.2`)) {
		t.Fatalf("push %q", pkt)
	}
}
