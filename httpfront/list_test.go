package httpfront

import (
	"encoding/json"
	"strings"
	"testing"

	"sextant/naming"
)

func listURL(q string) string { return "/nacos/v1/ns/instance/list?" + q }

func TestListFieldsForGoClient(t *testing.T) {
	e := newEnv(t)
	in := healthyInstance("10.0.0.1", 8080)
	in.Metadata = map[string]string{"zone": "a", naming.MetaBeatInterval: "3000"}
	e.register(demo, in)
	// The Go client's raw query.
	rec := e.must(200, "GET", listURL("namespaceId=&serviceName=DEFAULT_GROUP@@demo&app=&clusters=&udpPort=0&healthyOnly=false&clientIP=10.0.0.9"), "", "User-Agent", goUA)
	m := decode(t, rec)
	want := map[string]any{"name": "DEFAULT_GROUP@@demo", "dom": "demo", "clusters": "", "cacheMillis": 3000.0,
		"useSpecifiedURL": false, "env": "", "reachProtectionThreshold": false, "allIPs": false, "valid": true,
		"checksum": e.service(demo).Checksum}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	if lrt, ok := m["lastRefTime"].(float64); !ok || lrt <= 0 || lrt != float64(int64(lrt)) {
		t.Errorf("lastRefTime = %#v, want a positive integer", m["lastRefTime"])
	}
	if md, ok := m["metadata"].(map[string]any); !ok || len(md) != 0 {
		t.Errorf("metadata = %#v, want {}", m["metadata"])
	}
	hosts, _ := m["hosts"].([]any)
	if len(hosts) != 1 {
		t.Fatalf("hosts = %v", m["hosts"])
	}
	h := hosts[0].(map[string]any)
	wantHost := map[string]any{"ip": "10.0.0.1", "port": 8080.0, "weight": 1.0, "healthy": true, "enabled": true,
		"ephemeral": true, "clusterName": "DEFAULT", "serviceName": "demo", "instanceId": "10.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@demo",
		"valid": true, "marked": false, "instanceHeartBeatInterval": 3000.0, "instanceHeartBeatTimeOut": 15000.0, "ipDeleteTimeout": 30000.0}
	for k, v := range wantHost {
		if h[k] != v {
			t.Errorf("host %s = %#v, want %#v", k, h[k], v)
		}
	}
	if md, _ := h["metadata"].(map[string]any); md["zone"] != "a" {
		t.Errorf("host metadata = %#v", h["metadata"])
	}

	// What the Go SDK decodes must come out whole.
	var sdk struct {
		Name        string `json:"name"`
		CacheMillis uint64 `json:"cacheMillis"`
		LastRefTime uint64 `json:"lastRefTime"`
		Hosts       []struct {
			Port     uint64            `json:"port"`
			Enable   bool              `json:"enabled"`
			Metadata map[string]string `json:"metadata"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &sdk); err != nil || sdk.Hosts[0].Port != 8080 || !sdk.Hosts[0].Enable {
		t.Fatalf("Go SDK model cannot decode the list: %v %+v", err, sdk)
	}
}

func TestListGroupedNamesForJavaClients(t *testing.T) {
	e := newEnv(t)
	e.register(demo, healthyInstance("10.0.0.1", 8080))
	for _, ua := range []string{javaUA, nodeUA} {
		m := decode(t, e.must(200, "GET", listURL("serviceName=DEFAULT_GROUP%40%40demo"), "", "User-Agent", ua))
		h := m["hosts"].([]any)[0].(map[string]any)
		if m["dom"] != "DEFAULT_GROUP@@demo" || h["serviceName"] != "DEFAULT_GROUP@@demo" || m["name"] != "DEFAULT_GROUP@@demo" {
			t.Errorf("%s: dom %v, host serviceName %v, name %v", ua, m["dom"], h["serviceName"], m["name"])
		}
	}
	// A Java client older than 1.0.0 and unknown clients get bare names.
	for _, ua := range []string{"Nacos-Java-Client:v0.9.0", "curl/8.0", ""} {
		m := decode(t, e.must(200, "GET", listURL("serviceName=demo"), "", "User-Agent", ua))
		if m["dom"] != "demo" {
			t.Errorf("%q: dom %v", ua, m["dom"])
		}
	}
}

func TestListUnknownServiceIs200(t *testing.T) {
	e := newEnv(t)
	m := decode(t, e.must(200, "GET", listURL("serviceName=nothing&clusters=a,b"), ""))
	if hosts, ok := m["hosts"].([]any); !ok || len(hosts) != 0 {
		t.Fatalf("hosts = %#v, want []", m["hosts"])
	}
	if m["name"] != "DEFAULT_GROUP@@nothing" || m["clusters"] != "a,b" || m["cacheMillis"] != 3000.0 {
		t.Fatalf("envelope = %v", m)
	}
}

func TestListSelection(t *testing.T) {
	e := newEnv(t)
	a := healthyInstance("10.0.0.1", 1)
	b := healthyInstance("10.0.0.2", 1)
	b.Healthy = false
	c := healthyInstance("10.0.0.3", 1)
	c.Cluster = "c2"
	d := healthyInstance("10.0.0.4", 1)
	d.Enabled = false
	for _, in := range []naming.Instance{a, b, c, d} {
		e.register(demo, in)
	}
	ips := func(q string) string {
		m := decode(t, e.must(200, "GET", listURL(q), ""))
		var out []string
		for _, h := range m["hosts"].([]any) {
			out = append(out, h.(map[string]any)["ip"].(string))
		}
		return strings.Join(out, " ")
	}
	if got := ips("serviceName=demo"); got != "10.0.0.1 10.0.0.2 10.0.0.3" {
		t.Errorf("all = %q (disabled must never be listed)", got)
	}
	if got := ips("serviceName=demo&healthyOnly=true"); got != "10.0.0.1 10.0.0.3" {
		t.Errorf("healthyOnly = %q", got)
	}
	if got := ips("serviceName=demo&clusters=c2"); got != "10.0.0.3" {
		t.Errorf("clusters=c2 = %q", got)
	}
	if got := ips("serviceName=demo&clusters=DEFAULT,c2"); got != "10.0.0.1 10.0.0.2 10.0.0.3" {
		t.Errorf("clusters=DEFAULT,c2 = %q", got)
	}
	m := decode(t, e.must(200, "GET", listURL("serviceName=demo&clusters=DEFAULT,c2&env=prod"), ""))
	if m["clusters"] != "DEFAULT,c2" || m["env"] != "prod" {
		t.Errorf("clusters/env not echoed: %v %v", m["clusters"], m["env"])
	}
}

func TestListProtectThreshold(t *testing.T) {
	e := newEnv(t)
	e.must(200, "POST", "/nacos/v1/ns/service?serviceName=demo&protectThreshold=0.8", "")
	e.register(demo, healthyInstance("10.0.0.1", 1))
	sick := healthyInstance("10.0.0.2", 1)
	sick.Healthy = false
	e.register(demo, sick)
	m := decode(t, e.must(200, "GET", listURL("serviceName=demo&healthyOnly=true"), ""))
	hosts := m["hosts"].([]any)
	if m["reachProtectionThreshold"] != true || len(hosts) != 2 {
		t.Fatalf("protected list: reach=%v hosts=%d", m["reachProtectionThreshold"], len(hosts))
	}
	for _, h := range hosts {
		if h.(map[string]any)["healthy"] != true || h.(map[string]any)["valid"] != true {
			t.Fatalf("protected host not shown healthy: %v", h)
		}
	}
	// With 2 of 2 healthy the threshold is no longer reached.
	if err := e.cat.Apply(naming.Op{Kind: naming.OpSetHealth, Time: 2, Service: demo, Target: sick.Key(), Healthy: true}); err != nil {
		t.Fatal(err)
	}
	m = decode(t, e.must(200, "GET", listURL("serviceName=demo"), ""))
	if m["reachProtectionThreshold"] != false {
		t.Fatal("threshold still reported")
	}
}

func TestListCacheMillisAndPushSubscription(t *testing.T) {
	e := newEnv(t)
	e.register(demo, healthyInstance("10.0.0.1", 1))
	m := decode(t, e.must(200, "GET", listURL("serviceName=demo&udpPort=55001&clientIP=10.9.9.9"), "", "User-Agent", goUA))
	if m["cacheMillis"] != 10000.0 {
		t.Fatalf("cacheMillis with a push target = %v, want 10000", m["cacheMillis"])
	}
	subs := e.s.push.Subscribers(demo)
	if len(subs) != 1 || subs[0].Addr.String() != "127.0.0.1:55001" || subs[0].Agent != goUA {
		t.Fatalf("subscribers = %+v (target source pushes to the request's address)", subs)
	}
	// Clients Nacos does not push to, and udpPort 0, poll at 3000.
	for _, q := range []struct{ ua, q string }{{"curl/8", "udpPort=55002"}, {goUA, "udpPort=0"}} {
		m := decode(t, e.must(200, "GET", listURL("serviceName=demo&"+q.q), "", "User-Agent", q.ua))
		if m["cacheMillis"] != 3000.0 {
			t.Errorf("%v: cacheMillis = %v, want 3000", q, m["cacheMillis"])
		}
	}
	if n := len(e.s.push.Subscribers(demo)); n != 1 {
		t.Fatalf("%d subscribers, want 1", n)
	}
	// The switches drive both values.
	e.must(200, "PUT", "/nacos/v1/ns/operator/switches?entry=defaultCacheMillis&value=4000", "")
	e.must(200, "PUT", "/nacos/v1/ns/operator/switches?entry=pushEnabled&value=false", "")
	m = decode(t, e.must(200, "GET", listURL("serviceName=demo&udpPort=55001"), "", "User-Agent", goUA))
	if m["cacheMillis"] != 4000.0 {
		t.Fatalf("cacheMillis with push switched off = %v, want 4000", m["cacheMillis"])
	}
	e.must(400, "GET", listURL("serviceName=demo&udpPort=x"), "")
	e.must(400, "GET", listURL("serviceName=demo&udpPort=70000"), "")
}

func TestListBodyCachedPerRevision(t *testing.T) {
	e := newEnv(t)
	e.register(demo, healthyInstance("10.0.0.1", 1))
	first := e.must(200, "GET", listURL("serviceName=demo"), "").Body.String()
	second := e.must(200, "GET", listURL("serviceName=demo"), "").Body.String()
	cut := func(s string) string { return s[:strings.Index(s, `"lastRefTime":`)] }
	if cut(first) != cut(second) {
		t.Fatal("same revision rendered differently")
	}
	e.lists().mu.RLock()
	n := len(e.lists().m)
	e.lists().mu.RUnlock()
	if n != 1 {
		t.Fatalf("%d cached bodies, want 1", n)
	}
	v := listView{key: demo, cacheMillis: 3000}
	svc := e.service(demo)
	if h1, h2 := e.lists().get(svc, v).head, e.lists().get(svc, v).head; &h1[0] != &h2[0] {
		t.Fatal("cached head re-encoded for the same revision")
	}
	e.register(demo, healthyInstance("10.0.0.2", 1))
	if third := e.must(200, "GET", listURL("serviceName=demo"), "").Body.String(); !strings.Contains(third, "10.0.0.2") {
		t.Fatal("list not updated after a change")
	}
	e.lists().mu.RLock()
	n = len(e.lists().m)
	e.lists().mu.RUnlock()
	if n != 1 {
		t.Fatalf("%d cached bodies after a change, want 1 (old revisions replaced)", n)
	}
}

func TestListCacheIsBounded(t *testing.T) {
	lc := newListCache(3, 1<<20)
	e := newEnv(t)
	e.register(demo, healthyInstance("10.0.0.1", 1))
	svc := e.service(demo)
	for i := 0; i < 10; i++ {
		lc.get(svc, listView{key: demo, clusters: strings.Repeat("c", i+1)})
	}
	if len(lc.m) != 3 {
		t.Fatalf("cache holds %d views, bound is 3", len(lc.m))
	}
	lc.get(svc, listView{key: demo, clusters: strings.Repeat("c", maxCachedParams+1)})
	for v := range lc.m {
		if len(v.clusters) > maxCachedParams {
			t.Fatal("an oversized clusters string was cached")
		}
	}
}

func (e *env) lists() *listCache { return e.s.lists }
