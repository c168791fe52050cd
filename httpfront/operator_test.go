package httpfront

import (
	"errors"
	"strings"
	"testing"

	"sextant/naming"
)

func TestSwitches(t *testing.T) {
	e := newEnv(t)
	for _, base := range []string{"/nacos/v1/ns/operator", "/nacos/v1/ns/ops"} {
		m := decode(t, e.must(200, "GET", base+"/switches", ""))
		if m["name"] != "00-00---000-NACOS_SWITCH_DOMAIN-000---00-00" || m["defaultPushCacheMillis"] != 10000.0 || m["serverMode"] != "MIXED" {
			t.Fatalf("%s switches = %v", base, m)
		}
	}
	e.must(200, "PUT", "/nacos/v1/ns/operator/switches", "entry=serverMode&value=AP")
	if e.cat.Switches().ServerMode != naming.ModeAP {
		t.Fatal("switch not set")
	}
	if b := e.must(400, "PUT", "/nacos/v1/ns/operator/switches?entry=nope&value=1", "").Body.String(); b != "update entry is not supported: nope" {
		t.Fatalf("unknown entry: %q", b)
	}
	e.must(400, "PUT", "/nacos/v1/ns/operator/switches?entry=clientBeatInterval&value=-1", "")
	e.must(400, "PUT", "/nacos/v1/ns/operator/switches?entry=clientBeatInterval", "")
	if e.cat.Switches().ClientBeatInterval != 5000 {
		t.Fatal("rejected switch changed the catalog")
	}
}

func TestMetricsStatus(t *testing.T) {
	e := newEnv(t)
	e.register(demo, healthyInstance("10.0.0.1", 1))
	e.register(demo, healthyInstance("10.0.0.2", 1))
	m := decode(t, e.must(200, "GET", "/nacos/v1/ns/operator/metrics", "", "User-Agent", goUA))
	if m["status"] != "UP" || m["serviceCount"] != 1.0 || m["instanceCount"] != 2.0 || m["responsibleServiceCount"] != 1.0 || m["responsibleInstanceCount"] != 2.0 {
		t.Fatalf("metrics = %v", m)
	}
	if m := decode(t, e.must(200, "GET", "/nacos/v1/ns/operator/metrics?onlyStatus=true", "")); len(m) != 1 || m["status"] != "UP" {
		t.Fatalf("onlyStatus = %v", m)
	}
	e.cl.setReady(errors.New("loading data from peers"))
	if m := decode(t, e.must(200, "GET", "/nacos/v1/ns/ops/metrics", "")); m["status"] != "DOWN" {
		t.Fatalf("not ready: status %v", m["status"])
	}
	e.cl.setReady(nil)
	e.must(200, "PUT", "/nacos/v1/ns/operator/switches?entry=overriddenServerStatus&value=DOWN", "")
	if m := decode(t, e.must(200, "GET", "/nacos/v1/ns/operator/metrics", "")); m["status"] != "DOWN" {
		t.Fatalf("overridden: status %v", m["status"])
	}
}

func TestTrafficFilter(t *testing.T) {
	e := newEnv(t)
	e.cl.setReady(errors.New("loading data from peers"))
	if b := e.must(503, "GET", listURL("serviceName=demo"), "").Body.String(); b != "server is DOWN now, please try again later!" {
		t.Fatalf("body %q", b)
	}
	e.must(503, "POST", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=1", "")
	e.must(200, "GET", "/nacos/v1/ns/operator/metrics", "")
	e.must(200, "GET", "/nacos/v1/ns/operator/switches", "")
	e.must(200, "GET", "/nacos/v1/console/health/liveness", "")
	if b := e.must(503, "GET", "/nacos/v1/console/health/readiness", "").Body.String(); b != "loading data from peers" {
		t.Fatalf("readiness body %q", b)
	}
	e.cl.setReady(nil)
	e.must(200, "PUT", "/nacos/v1/ns/operator/switches?entry=overriddenServerStatus&value=READ_ONLY", "")
	e.must(200, "GET", listURL("serviceName=demo"), "")
	e.must(503, "POST", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=1", "")
	e.must(200, "PUT", "/nacos/v1/ns/operator/switches?entry=overriddenServerStatus&value=WRITE_ONLY", "")
	e.must(503, "GET", listURL("serviceName=demo"), "")
	e.must(200, "POST", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=1", "")
	e.must(200, "PUT", "/nacos/v1/ns/operator/switches?entry=overriddenServerStatus&value=UP", "")
	e.must(200, "GET", listURL("serviceName=demo"), "")
	if b := e.must(200, "GET", "/nacos/v1/console/health/readiness", "").Body.String(); b != "OK" {
		t.Fatalf("readiness body %q", b)
	}
}

func TestServersLeaderAndNodes(t *testing.T) {
	e := newEnv(t)
	m := decode(t, e.must(200, "GET", "/nacos/v1/ns/operator/servers", ""))
	servers := m["servers"].([]any)
	if len(servers) != 2 {
		t.Fatalf("servers = %v", servers)
	}
	s0 := servers[0].(map[string]any)
	if s0["ip"] != "10.0.0.5" || s0["port"] != 8848.0 || s0["state"] != "UP" || s0["address"] != "10.0.0.5:8848" ||
		s0["failAccessCnt"] != 0.0 || s0["extendInfo"].(map[string]any)["raftRole"] != "Leader" {
		t.Fatalf("server = %v", s0)
	}
	if m := decode(t, e.must(200, "GET", "/nacos/v1/ns/ops/servers?healthy=true", "")); len(m["servers"].([]any)) != 1 {
		t.Fatalf("healthy servers = %v", m)
	}
	m = decode(t, e.must(200, "GET", "/nacos/v1/core/cluster/nodes", ""))
	if m["code"] != 200.0 || m["message"] != nil || len(m["data"].([]any)) != 2 {
		t.Fatalf("nodes = %v", m)
	}
	if _, ok := m["message"]; !ok {
		t.Fatal("RestResult without message")
	}
	for _, path := range []string{"/nacos/v1/core/cluster/self", "/nacos/v1/core/cluster/nodes/self"} {
		m = decode(t, e.must(200, "GET", path, ""))
		if m["code"] != 200.0 || m["data"].(map[string]any)["address"] != "10.0.0.5:8848" {
			t.Fatalf("%s = %v", path, m)
		}
	}
	m = decode(t, e.must(200, "GET", "/nacos/v1/console/server/state", ""))
	if m["standalone_mode"] != "cluster" || m["version"] == nil {
		t.Fatalf("state = %v", m)
	}
}

func TestPushState(t *testing.T) {
	e := newEnv(t)
	for _, base := range []string{"/nacos/v1/ns/operator", "/nacos/v1/ns/ops"} {
		m := decode(t, e.must(200, "GET", base+"/push/state", ""))
		if m["succeed"] != 0.0 || m["total"] != 0.0 || m["failed"] != 0.0 || m["ratio"] != 1.0 || m["reset"] != false {
			t.Fatalf("push state = %v", m)
		}
	}
	if m := decode(t, e.must(200, "POST", "/nacos/v1/ns/operator/push/state?reset=true", "")); m["reset"] != true {
		t.Fatalf("reset = %v", m)
	}
}

func TestNamespaces(t *testing.T) {
	e := newEnv(t)
	ns := "/nacos/v1/console/namespaces"
	m := decode(t, e.must(200, "GET", ns, ""))
	data := m["data"].([]any)
	if m["code"] != 200.0 || len(data) != 1 {
		t.Fatalf("namespaces = %v", m)
	}
	pub := data[0].(map[string]any)
	if pub["namespace"] != "" || pub["namespaceShowName"] != "public" || pub["type"] != 0.0 || pub["configCount"] != 0.0 || pub["quota"] != 200.0 {
		t.Fatalf("public = %v", pub)
	}
	if b := e.must(200, "POST", ns, "customNamespaceId=dev&namespaceName=Dev&namespaceDesc=for+devs").Body.String(); b != "true" {
		t.Fatalf("create body %q", b)
	}
	e.must(200, "POST", ns, "namespaceName=Generated")
	e.must(400, "POST", ns, "customNamespaceId=dev&namespaceName=Again")
	e.must(400, "POST", ns, "customNamespaceId=dev")
	e.must(400, "POST", ns, "customNamespaceId=bad/id&namespaceName=x")
	m = decode(t, e.must(200, "GET", ns, ""))
	if data := m["data"].([]any); len(data) != 3 {
		t.Fatalf("namespaces after create = %v", data)
	}
	if n, _ := e.cat.Namespace("dev"); n.Name != "Dev" || n.Description != "for devs" {
		t.Fatalf("dev = %+v", n)
	}
	e.must(200, "PUT", ns, "namespace=dev&namespaceShowName=Development&namespaceDesc=d")
	if n, _ := e.cat.Namespace("dev"); n.Name != "Development" || n.Description != "d" {
		t.Fatalf("dev after update = %+v", n)
	}
	if m := decode(t, e.must(200, "GET", ns+"?show=all&namespaceId=dev", "")); m["namespaceShowName"] != "Development" {
		t.Fatalf("one namespace = %v", m)
	}
	e.must(404, "PUT", ns, "namespace=none&namespaceShowName=x")
	e.must(400, "PUT", ns, "namespace=dev")
	e.must(400, "PUT", ns, "namespace=public&namespaceShowName=x")
	// Refused while it holds a service, and the namespace stays.
	held := naming.NewServiceKey("dev", "", "held")
	e.register(held, healthyInstance("10.0.0.9", 80))
	if b := e.must(400, "DELETE", ns+"?namespaceId=dev", "").Body.String(); b != "namespace dev holds 1 services; delete them before the namespace" {
		t.Fatalf("refusal %q", b)
	}
	if _, ok := e.cat.Namespace("dev"); !ok {
		t.Fatal("namespace deleted while it held a service")
	}
	if err := e.cat.Apply(naming.Op{Kind: naming.OpDeregister, Service: held, Target: naming.InstanceKey{IP: "10.0.0.9", Port: 80, Cluster: naming.DefaultCluster}}); err != nil {
		t.Fatal(err)
	}
	if err := e.cat.Apply(naming.Op{Kind: naming.OpDeleteService, Service: held}); err != nil {
		t.Fatal(err)
	}
	e.must(200, "DELETE", ns+"?namespaceId=dev", "")
	e.must(404, "DELETE", ns+"?namespaceId=dev", "")
	e.must(400, "DELETE", ns+"?namespaceId=public", "")
	e.must(400, "DELETE", ns, "")
	if _, ok := e.cat.Namespace("dev"); ok {
		t.Fatal("namespace not deleted")
	}
}

func TestCatalog(t *testing.T) {
	e := newEnv(t)
	e.register(demo, healthyInstance("10.0.0.1", 1))
	sick := healthyInstance("10.0.0.2", 1)
	sick.Healthy = false
	sick.Cluster = "c2"
	e.register(demo, sick)
	e.register(naming.NewServiceKey("", "g", "other"), healthyInstance("10.0.0.3", 1))
	m := decode(t, e.must(200, "GET", "/nacos/v1/ns/catalog/services?pageNo=1&pageSize=10", ""))
	list := m["serviceList"].([]any)
	if m["count"] != 2.0 || len(list) != 2 {
		t.Fatalf("services = %v", m)
	}
	v := list[0].(map[string]any)
	if v["name"] != "demo" || v["groupName"] != "DEFAULT_GROUP" || v["clusterCount"] != 2.0 || v["ipCount"] != 2.0 || v["healthyInstanceCount"] != 1.0 || v["triggerFlag"] != "false" {
		t.Fatalf("view = %v", v)
	}
	if m := decode(t, e.must(200, "GET", "/nacos/v1/ns/catalog/services?pageNo=1&pageSize=10&serviceNameParam=oth", "")); m["count"] != 1.0 {
		t.Fatalf("filtered = %v", m)
	}
	rec := e.must(200, "GET", "/nacos/v1/ns/catalog/services?withInstances=true&groupNameParam=DEFAULT", "")
	if !containsAll(rec.Body.String(), `"serviceName":"demo"`, `"clusterMap"`, `"c2"`, `"10.0.0.2"`) {
		t.Fatalf("withInstances = %s", rec.Body.String())
	}
	m = decode(t, e.must(200, "GET", "/nacos/v1/ns/catalog/service?serviceName=demo", ""))
	if m["service"].(map[string]any)["name"] != "demo" || len(m["clusters"].([]any)) != 2 {
		t.Fatalf("service = %v", m)
	}
	e.must(404, "GET", "/nacos/v1/ns/catalog/service?serviceName=none", "")
	m = decode(t, e.must(200, "GET", "/nacos/v1/ns/catalog/instances?serviceName=demo&clusterName=c2&pageNo=1&pageSize=10", ""))
	insts := m["list"].([]any)
	if m["count"] != 1.0 || len(insts) != 1 || insts[0].(map[string]any)["ip"] != "10.0.0.2" || insts[0].(map[string]any)["healthy"] != false {
		t.Fatalf("instances = %v", m)
	}
	e.must(404, "GET", "/nacos/v1/ns/catalog/instances?serviceName=demo&clusterName=c9&pageNo=1&pageSize=10", "")
	e.must(404, "GET", "/nacos/v1/ns/catalog/instances?serviceName=none&clusterName=c2&pageNo=1&pageSize=10", "")
	e.must(400, "GET", "/nacos/v1/ns/catalog/instances?serviceName=demo&pageNo=1&pageSize=10", "")
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
