package httpfront

import (
	"net/http"
	"strings"
	"testing"

	"sextant/naming"
)

func TestRegisterAsGoClientSendsIt(t *testing.T) {
	e := newEnv(t)
	// The exact body nacos-sdk-go v1.1.4 posts (properly form-encoded).
	body := "app=&clusterName=&enable=true&ephemeral=true&groupName=DEFAULT_GROUP&healthy=true&ip=10.0.0.1" +
		"&metadata=%7B%22zone%22%3A%22a%22%7D&namespaceId=&port=8080&serviceName=DEFAULT_GROUP%40%40demo&weight=1"
	rec := e.must(200, "POST", "/nacos/v1/ns/instance", body, "User-Agent", goUA)
	if rec.Body.String() != "ok" {
		t.Fatalf("body %q, want ok", rec.Body.String())
	}
	svc := e.service(demo)
	if svc == nil || len(svc.Instances) != 1 {
		t.Fatalf("service after register: %+v", svc)
	}
	in := svc.Instances[0]
	if in.IP != "10.0.0.1" || in.Port != 8080 || in.Cluster != "DEFAULT" || in.Weight != 1 || !in.Healthy ||
		!in.Enabled || !in.Ephemeral || in.Metadata["zone"] != "a" || in.Key().ID(demo) != "10.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@demo" {
		t.Fatalf("instance = %+v", in)
	}
	if op := e.w.lastOp(); op.Kind != naming.OpRegister || op.Time != 0 || !op.Ephemeral {
		t.Fatalf("op handed to the writer = %+v (time must be left to the writer)", op)
	}
}

func TestRegisterNamesAndAliases(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, query string
		key         naming.ServiceKey
		cluster     string
	}{
		{"dom alias", "dom=a1&ip=10.0.0.1&port=1", naming.ServiceKey{Namespace: "public", Group: "DEFAULT_GROUP", Name: "a1"}, "DEFAULT"},
		{"grouped name", "serviceName=g1@@a2&ip=10.0.0.1&port=1", naming.ServiceKey{Namespace: "public", Group: "g1", Name: "a2"}, "DEFAULT"},
		{"groupName param", "serviceName=a3&groupName=g2&ip=10.0.0.1&port=1", naming.ServiceKey{Namespace: "public", Group: "g2", Name: "a3"}, "DEFAULT"},
		{"blank namespace", "namespaceId=&serviceName=a4&ip=10.0.0.1&port=1", naming.ServiceKey{Namespace: "public", Group: "DEFAULT_GROUP", Name: "a4"}, "DEFAULT"},
		{"namespace", "namespaceId=dev&serviceName=a5&ip=10.0.0.1&port=1", naming.ServiceKey{Namespace: "dev", Group: "DEFAULT_GROUP", Name: "a5"}, "DEFAULT"},
		{"cluster fallback", "serviceName=a6&ip=10.0.0.1&port=1&cluster=c1", naming.ServiceKey{Namespace: "public", Group: "DEFAULT_GROUP", Name: "a6"}, "c1"},
		{"clusterName wins", "serviceName=a7&ip=10.0.0.1&port=1&cluster=c1&clusterName=c2", naming.ServiceKey{Namespace: "public", Group: "DEFAULT_GROUP", Name: "a7"}, "c2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.must(200, "POST", "/nacos/v1/ns/instance?"+c.query, "")
			svc := e.service(c.key)
			if svc == nil || len(svc.Instances) != 1 || svc.Instances[0].Cluster != c.cluster {
				t.Fatalf("service %v = %+v", c.key, svc)
			}
		})
	}
}

func TestRegisterFieldDefaultsAndFallbacks(t *testing.T) {
	e := newEnv(t)
	e.must(200, "POST", "/nacos/v1/ns/instance?serviceName=d&ip=10.0.0.1&port=1&enable=false&metadata=k=v,k2=v2&weight=2.5&healthy=no&ephemeral=false", "")
	in := e.service(naming.NewServiceKey("", "", "d")).Instances[0]
	if in.Enabled || in.Healthy || in.Ephemeral || in.Weight != 2.5 || in.Metadata["k"] != "v" || in.Metadata["k2"] != "v2" {
		t.Fatalf("instance = %+v", in)
	}
	// enabled wins over enable. (The instance stays persistent: no writer
	// turns a persistent instance into an ephemeral one.)
	e.must(200, "POST", "/nacos/v1/ns/instance?serviceName=d&ip=10.0.0.1&port=1&enable=false&enabled=true&ephemeral=false", "")
	if in := e.service(naming.NewServiceKey("", "", "d")).Instances[0]; !in.Enabled || in.Weight != 1 || in.Ephemeral {
		t.Fatalf("re-registered instance = %+v", in)
	}
}

func TestDeregister(t *testing.T) {
	e := newEnv(t)
	e.register(demo, healthyInstance("10.0.0.1", 8080))
	e.register(demo, healthyInstance("10.0.0.2", 8080))
	// Go v1 sends the query unescaped and ephemeral=false by default.
	e.must(200, "DELETE", "/nacos/v1/ns/instance?namespaceId=&serviceName=DEFAULT_GROUP@@demo&clusterName=&ip=10.0.0.1&port=8080&ephemeral=false", "", "User-Agent", goUA)
	if svc := e.service(demo); len(svc.Instances) != 1 || svc.Instances[0].IP != "10.0.0.2" {
		t.Fatalf("after deregister: %+v", svc.Instances)
	}
	if op := e.w.lastOp(); op.Kind != naming.OpDeregister || !op.Ephemeral {
		t.Fatalf("deregister op = %+v; the instance's own class must win", op)
	}
	// Absent instance and absent service are fine.
	e.must(200, "DELETE", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=8080", "")
	e.must(200, "DELETE", "/nacos/v1/ns/instance?serviceName=nothing&ip=10.0.0.1&port=8080", "")
}

func TestUpdateGoClientUnescapedPutIsUpsert(t *testing.T) {
	e := newEnv(t)
	// What nacos-sdk-go v1.1.4 puts: k=v pairs, unescaped, empty values dropped.
	body := `serviceName=DEFAULT_GROUP@@demo&ip=10.0.0.1&port=8080&ephemeral=true&weight=3&enable=true&metadata={"v":"1.0+build","k":"a b"}`
	e.must(200, "PUT", "/nacos/v1/ns/instance", body, "User-Agent", goUA)
	in := e.service(demo).Instances[0]
	if in.Weight != 3 || in.Metadata["v"] != "1.0+build" || in.Metadata["k"] != "a b" {
		t.Fatalf("upserted instance = %+v", in)
	}
	// An update of an existing instance keeps its health.
	if err := e.cat.Apply(naming.Op{Kind: naming.OpSetHealth, Time: 1, Service: demo, Target: in.Key(), Healthy: false, Ephemeral: true}); err != nil {
		t.Fatal(err)
	}
	body = `serviceName=DEFAULT_GROUP@@demo&ip=10.0.0.1&port=8080&ephemeral=true&weight=5&enable=false&metadata={"v":"2"}`
	e.must(200, "PUT", "/nacos/v1/ns/instance", body, "User-Agent", goUA)
	in = e.service(demo).Instances[0]
	if in.Weight != 5 || in.Enabled || in.Healthy || in.Metadata["v"] != "2" || len(in.Metadata) != 1 {
		t.Fatalf("updated instance = %+v", in)
	}
	if op := e.w.lastOp(); op.Kind != naming.OpUpdateInstance {
		t.Fatalf("update of an existing instance went as %v", op.Kind)
	}
}

func TestUpdateJavaClientIsStrict(t *testing.T) {
	e := newEnv(t)
	rec := e.must(400, "PUT", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=8080&weight=2", "", "User-Agent", javaUA)
	if !strings.HasPrefix(rec.Body.String(), "instance not exist") {
		t.Fatalf("body %q", rec.Body.String())
	}
	if e.service(demo) != nil {
		t.Fatal("strict update created the service")
	}
	e.register(demo, healthyInstance("10.0.0.1", 8080))
	e.must(200, "PUT", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=8080&weight=2&enabled=false", "", "User-Agent", javaUA)
	if in := e.service(demo).Instances[0]; in.Weight != 2 || in.Enabled {
		t.Fatalf("updated instance = %+v", in)
	}
}

func TestPatchInstance(t *testing.T) {
	e := newEnv(t)
	e.must(400, "PATCH", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=8080&weight=2", "")
	in := healthyInstance("10.0.0.1", 8080)
	in.Metadata = map[string]string{"a": "1"}
	e.register(demo, in)
	e.must(200, "PATCH", "/nacos/v1/ns/instance", "serviceName=demo&ip=10.0.0.1&port=8080&healthy=false")
	got := e.service(demo).Instances[0]
	if got.Healthy || got.Weight != 1 || got.Metadata["a"] != "1" {
		t.Fatalf("patched = %+v; only healthy may change", got)
	}
	e.must(200, "PATCH", "/nacos/v1/ns/instance", "serviceName=demo&ip=10.0.0.1&port=8080&metadata=b%3D2")
	if got := e.service(demo).Instances[0]; len(got.Metadata) != 1 || got.Metadata["b"] != "2" {
		t.Fatalf("patched metadata = %v", got.Metadata)
	}
}

func TestInstanceDetail(t *testing.T) {
	e := newEnv(t)
	e.must(404, "GET", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=8080", "")
	in := healthyInstance("10.0.0.1", 8080)
	in.Metadata = map[string]string{"zone": "a"}
	e.register(demo, in)
	m := decode(t, e.must(200, "GET", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=8080", ""))
	want := map[string]any{"service": "DEFAULT_GROUP@@demo", "ip": "10.0.0.1", "port": 8080.0, "clusterName": "DEFAULT",
		"weight": 1.0, "healthy": true, "instanceId": "10.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@demo"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if md, _ := m["metadata"].(map[string]any); md["zone"] != "a" {
		t.Errorf("metadata = %v", m["metadata"])
	}
	if b := e.must(404, "GET", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=8080&clusterName=other", "").Body.String(); b != "no ips found for cluster other in service DEFAULT_GROUP@@demo" {
		t.Errorf("missing cluster body %q", b)
	}
	if b := e.must(404, "GET", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=9", "").Body.String(); b != "no matched ip found!" {
		t.Errorf("missing instance body %q", b)
	}
}

func TestInstanceStatuses(t *testing.T) {
	e := newEnv(t)
	e.register(demo, healthyInstance("10.0.0.1", 8080))
	bad := healthyInstance("10.0.0.2", 8080)
	bad.Healthy = false
	e.register(demo, bad)
	m := decode(t, e.must(200, "GET", "/nacos/v1/ns/instance/statuses?key=public%23%23DEFAULT_GROUP%40%40demo", ""))
	ips, _ := m["ips"].([]any)
	if len(ips) != 2 || ips[0] != "10.0.0.1:8080_true" || ips[1] != "10.0.0.2:8080_false" {
		t.Fatalf("ips = %v", m["ips"])
	}
	e.must(200, "POST", "/nacos/v1/ns/instance/statuses?key=DEFAULT_GROUP@@demo", "")
	e.must(404, "GET", "/nacos/v1/ns/instance/statuses?key=DEFAULT_GROUP@@none", "")
	e.must(400, "GET", "/nacos/v1/ns/instance/statuses", "")
}

func TestBatchMetadata(t *testing.T) {
	e := newEnv(t)
	a := healthyInstance("10.0.0.1", 8080)
	a.Metadata = map[string]string{"keep": "1", "drop": "x"}
	e.register(demo, a)
	e.register(demo, healthyInstance("10.0.0.2", 8080))
	m := decode(t, e.must(200, "PUT", "/nacos/v1/ns/instance/metadata/batch",
		`serviceName=demo&instances=[{"ip":"10.0.0.1","port":8080,"clusterName":"DEFAULT"}]&metadata={"new":"2"}`))
	if up, _ := m["updated"].([]any); len(up) != 1 || up[0] != "10.0.0.1:8080:unknown:DEFAULT:ephemeral" {
		t.Fatalf("updated = %v", m["updated"])
	}
	svc := e.service(demo)
	if md := svc.Instances[0].Metadata; md["new"] != "2" || md["keep"] != "1" || len(svc.Instances[1].Metadata) != 0 {
		t.Fatalf("metadata after merge: %v / %v", md, svc.Instances[1].Metadata)
	}
	e.must(200, "DELETE", "/nacos/v1/ns/instance/metadata/batch", `serviceName=demo&metadata={"drop":""}`)
	if md := e.service(demo).Instances[0].Metadata; md["drop"] != "" || md["keep"] != "1" {
		t.Fatalf("metadata after delete: %v", md)
	}
	e.must(400, "PUT", "/nacos/v1/ns/instance/metadata/batch", `serviceName=demo`)
	e.must(400, "PUT", "/nacos/v1/ns/instance/metadata/batch", `serviceName=demo&metadata=a=b&instances=nope`)
}

func TestWriterErrorsMapToStatuses(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		err    error
		status int
		body   string
	}{
		{naming.Errorf(naming.ErrUnavailable, "no raft leader"), http.StatusServiceUnavailable, "no raft leader"},
		{naming.Errorf(naming.ErrForbidden, "server mode is AP"), http.StatusBadRequest, "server mode is AP"},
		{naming.Errorf(naming.ErrConflict, "exists"), http.StatusBadRequest, "exists"},
		{naming.Errorf(naming.ErrTooLarge, "too many"), http.StatusRequestEntityTooLarge, "too many"},
		{errBoom, http.StatusInternalServerError, "caused: boom;"},
	}
	for _, c := range cases {
		e.w.mu.Lock()
		e.w.err = c.err
		e.w.mu.Unlock()
		rec := e.must(c.status, "POST", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=1", "")
		if rec.Body.String() != c.body {
			t.Errorf("%v: body %q, want %q", c.err, rec.Body.String(), c.body)
		}
	}
}
