package httpfront

import (
	"strings"
	"testing"

	"sextant/naming"
)

func TestServiceLifecycle(t *testing.T) {
	e := newEnv(t)
	svcPath := "/nacos/v1/ns/service"
	e.must(200, "POST", svcPath+"?serviceName=demo&protectThreshold=0.5&metadata=team%3Dblue&selector=%7B%22type%22%3A%22none%22%7D", "")
	if b := e.must(400, "POST", svcPath+"?serviceName=demo", "").Body.String(); b != "specified service already exists, serviceName : DEFAULT_GROUP@@demo" {
		t.Fatalf("duplicate create body %q", b)
	}
	m := decode(t, e.must(200, "GET", svcPath+"?serviceName=demo", ""))
	if m["name"] != "demo" || m["groupName"] != "DEFAULT_GROUP" || m["namespaceId"] != "public" || m["protectThreshold"] != 0.5 {
		t.Fatalf("service = %v", m)
	}
	if md := m["metadata"].(map[string]any); md["team"] != "blue" {
		t.Fatalf("metadata = %v", md)
	}
	if sel := m["selector"].(map[string]any); sel["type"] != "none" {
		t.Fatalf("selector = %v", sel)
	}
	if cl, ok := m["clusters"].([]any); !ok || len(cl) != 0 {
		t.Fatalf("clusters of an empty service = %#v", m["clusters"])
	}
	e.register(demo, healthyInstance("10.0.0.1", 1))
	m = decode(t, e.must(200, "GET", svcPath+"?serviceName=DEFAULT_GROUP@@demo", ""))
	cl := m["clusters"].([]any)
	if len(cl) != 1 || cl[0].(map[string]any)["name"] != "DEFAULT" || cl[0].(map[string]any)["healthChecker"].(map[string]any)["type"] != "TCP" {
		t.Fatalf("clusters = %v", cl)
	}

	// PUT needs protectThreshold; metadata kept when absent.
	e.must(400, "PUT", svcPath+"?serviceName=demo", "")
	e.must(200, "PUT", svcPath, "serviceName=demo&protectThreshold=0.2")
	if svc := e.service(demo); svc.Meta.ProtectThreshold != 0.2 || svc.Meta.Metadata["team"] != "blue" || len(svc.Instances) != 1 {
		t.Fatalf("after update: %+v", svc.Meta)
	}
	if b := e.must(400, "PUT", svcPath+"?serviceName=none&protectThreshold=0", "").Body.String(); b != "service DEFAULT_GROUP@@none not found!" {
		t.Fatalf("update of a missing service: %q", b)
	}
	if b := e.must(404, "GET", svcPath+"?serviceName=none", "").Body.String(); b != "service DEFAULT_GROUP@@none is not found!" {
		t.Fatalf("get of a missing service: %q", b)
	}

	// DELETE refuses a service with instances and a missing service.
	e.must(400, "DELETE", svcPath+"?serviceName=demo", "")
	e.must(200, "DELETE", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=1", "")
	e.must(200, "DELETE", svcPath+"?serviceName=demo", "")
	if e.service(demo) != nil {
		t.Fatal("service not deleted")
	}
	if b := e.must(400, "DELETE", svcPath+"?serviceName=demo", "").Body.String(); !strings.HasPrefix(b, "specified service not exist") {
		t.Fatalf("delete of a missing service: %q", b)
	}
	e.must(400, "POST", svcPath+"?serviceName=x&protectThreshold=2", "")
	e.must(400, "POST", svcPath+"?serviceName=x&selector=nope", "")
	if e.service(naming.NewServiceKey("", "", "x")) != nil {
		t.Fatal("rejected create changed the catalog")
	}
}

func TestServiceList(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"c", "a", "b"} {
		e.register(naming.NewServiceKey("", "", n), healthyInstance("10.0.0.1", 1))
	}
	e.register(naming.NewServiceKey("", "g2", "z"), healthyInstance("10.0.0.1", 1))
	e.register(naming.NewServiceKey("dev", "", "other"), healthyInstance("10.0.0.1", 1))
	list := "/nacos/v1/ns/service/list?"
	// The Go client's query (GetAllServicesInfo).
	m := decode(t, e.must(200, "GET", list+"namespaceId=public&groupName=&pageNo=1&pageSize=2", "", "User-Agent", goUA))
	if m["count"] != 3.0 || strings.Join(toStrings(m["doms"]), ",") != "a,b" {
		t.Fatalf("page 1 = %v", m)
	}
	m = decode(t, e.must(200, "GET", list+"pageNo=2&pageSize=2", ""))
	if m["count"] != 3.0 || strings.Join(toStrings(m["doms"]), ",") != "c" {
		t.Fatalf("page 2 = %v", m)
	}
	m = decode(t, e.must(200, "GET", list+"pageNo=9&pageSize=2", ""))
	if doms, ok := m["doms"].([]any); m["count"] != 3.0 || !ok || len(doms) != 0 {
		t.Fatalf("page past the end = %v", m)
	}
	m = decode(t, e.must(200, "GET", list+"pageNo=1&pageSize=10&groupName=g2", ""))
	if strings.Join(toStrings(m["doms"]), ",") != "z" {
		t.Fatalf("group g2 = %v", m)
	}
	m = decode(t, e.must(200, "GET", list+"pageNo=1&pageSize=10&groupName=*", ""))
	if m["count"] != 4.0 || strings.Join(toStrings(m["doms"]), ",") != "DEFAULT_GROUP@@a,DEFAULT_GROUP@@b,DEFAULT_GROUP@@c,g2@@z" {
		t.Fatalf("all groups = %v", m)
	}
	if b := e.must(400, "GET", list+"pageSize=10", "").Body.String(); b != "Param 'pageNo' is required." {
		t.Fatalf("missing pageNo: %q", b)
	}
	e.must(400, "GET", list+"pageNo=1", "")
	e.must(400, "GET", list+"pageNo=0&pageSize=10", "")

	m = decode(t, e.must(200, "GET", "/nacos/v1/ns/service/names", ""))
	svcs := m["services"].(map[string]any)
	if m["count"] != 5.0 || len(svcs["public"].([]any)) != 4 || svcs["dev"].([]any)[0] != "DEFAULT_GROUP@@other" {
		t.Fatalf("names = %v", m)
	}
	m = decode(t, e.must(200, "GET", "/nacos/v1/ns/service/names?namespaceId=public&expr=@@b", ""))
	if m["count"] != 1.0 {
		t.Fatalf("names with expr = %v", m)
	}
}

func TestServiceSubscribers(t *testing.T) {
	e := newEnv(t)
	e.must(200, "GET", listURL("serviceName=demo&udpPort=55001&app=shop"), "", "User-Agent", goUA)
	m := decode(t, e.must(200, "GET", "/nacos/v1/ns/service/subscribers?serviceName=demo&pageNo=1&pageSize=10", ""))
	subs := m["subscribers"].([]any)
	if m["count"] != 1.0 || len(subs) != 1 {
		t.Fatalf("subscribers = %v", m)
	}
	s := subs[0].(map[string]any)
	if s["addrStr"] != "127.0.0.1:55001" || s["agent"] != goUA || s["app"] != "shop" || s["ip"] != "127.0.0.1" ||
		s["namespaceId"] != "public" || s["serviceName"] != "DEFAULT_GROUP@@demo" {
		t.Fatalf("subscriber = %v", s)
	}
	e.must(400, "GET", "/nacos/v1/ns/service/subscribers?serviceName=demo", "")
}

func TestUpdateClusterAndOperatorHealth(t *testing.T) {
	e := newEnv(t)
	in := healthyInstance("10.0.0.1", 8080)
	in.Ephemeral = false
	e.register(demo, in)
	health := "/nacos/v1/ns/health/instance?serviceName=demo&ip=10.0.0.1&port=8080&healthy=false"
	if b := e.must(400, "PUT", health, "").Body.String(); b != "health check is still working, service: DEFAULT_GROUP@@demo" {
		t.Fatalf("health with a TCP checker: %q", b)
	}
	cluster := "/nacos/v1/ns/cluster"
	e.must(200, "PUT", cluster, `serviceName=demo&clusterName=DEFAULT&checkPort=81&useInstancePort4Check=false&healthChecker={"type":"HTTP","path":"/health","headers":"","expectedResponseCode":200}&metadata=k=v`)
	cc := e.service(demo).Meta.Cluster("DEFAULT")
	if cc.HealthChecker.Type != "HTTP" || cc.HealthChecker.Path != "/health" || cc.HealthChecker.ExpectedCodes != "200" ||
		cc.CheckPort != 81 || cc.UseInstancePortToCheck || cc.Metadata["k"] != "v" {
		t.Fatalf("cluster = %+v", cc)
	}
	e.must(200, "PUT", cluster+`?serviceName=demo&clusterName=DEFAULT&healthChecker={"type":"none"}`, "")
	if cc := e.service(demo).Meta.Cluster("DEFAULT"); cc.HealthChecker.Type != "NONE" || cc.CheckPort != 81 || cc.Metadata["k"] != "v" {
		t.Fatalf("cluster = %+v (absent fields keep their values)", cc)
	}
	if b := e.must(400, "PUT", "/nacos/v1/ns/health/instance?serviceName=demo&ip=10.0.0.1&port=8080", "").Body.String(); b != "Param 'healthy' is required." {
		t.Fatalf("missing healthy: %q", b)
	}
	e.must(200, "PUT", health, "")
	if e.service(demo).Instances[0].Healthy {
		t.Fatal("health not set")
	}
	e.must(200, "PUT", "/nacos/v1/ns/health?serviceName=demo&ip=10.0.0.1&port=8080&valid=true", "")
	if !e.service(demo).Instances[0].Healthy {
		t.Fatal("health not set through PUT /health with valid")
	}
	if op := e.w.lastOp(); op.Kind != naming.OpSetHealth || op.Ephemeral {
		t.Fatalf("op = %+v", op)
	}
	for _, bad := range []string{
		`serviceName=demo&clusterName=DEFAULT`,
		`serviceName=demo&clusterName=DEFAULT&healthChecker=nope`,
		`serviceName=demo&clusterName=DEFAULT&healthChecker={"type":"ICMP"}`,
		`serviceName=demo&clusterName=DEFAULT&healthChecker={"type":"TCP"}&checkPort=x`,
		`serviceName=none&clusterName=DEFAULT&healthChecker={"type":"TCP"}`,
		`serviceName=demo&clusterName=a/b&healthChecker={"type":"TCP"}`,
	} {
		if rec := e.req("PUT", cluster, bad); rec.Code != 400 {
			t.Errorf("%s: status %d", bad, rec.Code)
		}
	}
	m := decode(t, e.must(200, "GET", "/nacos/v1/ns/health/server", ""))
	if !strings.HasPrefix(m["msg"].(string), "Hello! I am Nacos-Naming and healthy! total services: 1") {
		t.Fatalf("health server = %v", m)
	}
	m = decode(t, e.must(200, "GET", "/nacos/v1/ns/health/checkers", ""))
	if len(m) != 3 || m["NONE"] == nil {
		t.Fatalf("checkers = %v", m)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
