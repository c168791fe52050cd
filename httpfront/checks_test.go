package httpfront

import (
	"strings"
	"testing"

	"sextant/naming"
)

const clusterPath = "/nacos/v1/ns/cluster"

func TestUpdateClusterProbeSettings(t *testing.T) {
	e := newEnv(t)
	in := healthyInstance("10.0.0.1", 8080)
	in.Ephemeral = false
	e.register(demo, in)

	e.must(200, "PUT", clusterPath, `serviceName=demo&clusterName=DEFAULT&healthChecker={"type":"HTTP","path":"/health","headers":"X-A:1|X-B:svc","expectedResponseCode":"200,204"}`+
		`&checkInterval=5s&checkTimeout=300&unhealthyThreshold=3&healthyThreshold=2`)
	cc := e.service(demo).Meta.Cluster("DEFAULT")
	want := naming.CheckSettings{IntervalMillis: 5000, TimeoutMillis: 300, UnhealthyThreshold: 3, HealthyThreshold: 2}
	if cc.Check != want || cc.HealthChecker.ExpectedCodes != "200,204" || cc.HealthChecker.Headers != "X-A:1|X-B:svc" {
		t.Fatalf("cluster = %+v", cc)
	}
	// GET /service shows them.
	m := decode(t, e.must(200, "GET", "/nacos/v1/ns/service?serviceName=demo", ""))
	cl := m["clusters"].([]any)[0].(map[string]any)
	if cl["checkInterval"] != 5000.0 || cl["checkTimeout"] != 300.0 || cl["unhealthyThreshold"] != 3.0 || cl["healthyThreshold"] != 2.0 {
		t.Fatalf("GET /service cluster = %v", cl)
	}

	// Absent parameters keep their values; 0 clears one.
	e.must(200, "PUT", clusterPath, `serviceName=demo&clusterName=DEFAULT&healthChecker={"type":"TCP"}&checkTimeout=0`)
	cc = e.service(demo).Meta.Cluster("DEFAULT")
	if want.TimeoutMillis = 0; cc.Check != want || cc.HealthChecker.Type != "TCP" {
		t.Fatalf("after partial update: %+v", cc)
	}

	for _, bad := range []string{
		`checkInterval=soon`,
		`checkInterval=10`,       // below 100 ms
		`checkInterval=2h`,       // above 1 h
		`checkTimeout=5ms`,       // below 10 ms
		`unhealthyThreshold=x`,   // not a number
		`unhealthyThreshold=101`, // above 100
		`healthyThreshold=-1`,
	} {
		body := `serviceName=demo&clusterName=DEFAULT&healthChecker={"type":"TCP"}&` + bad
		if rec := e.req("PUT", clusterPath, body); rec.Code != 400 {
			t.Errorf("%s: status %d", bad, rec.Code)
		}
	}
	for _, hc := range []string{
		`{"type":"HTTP","expectedResponseCode":"ok"}`,
		`{"type":"HTTP","expectedResponseCode":"700"}`,
		`{"type":"HTTP","headers":"novalue"}`,
		`{"type":"HTTP","headers":"bad name:v"}`,
		`{"type":"HTTP","path":"/a b"}`,
	} {
		rec := e.req("PUT", clusterPath, `serviceName=demo&clusterName=DEFAULT&healthChecker=`+hc)
		if rec.Code != 400 {
			t.Errorf("%s: status %d", hc, rec.Code)
		}
	}
	if cc2 := e.service(demo).Meta.Cluster("DEFAULT"); cc2.Check != want || cc2.HealthChecker.Type != "TCP" {
		t.Fatalf("rejected requests changed the cluster: %+v", cc2)
	}
}

// fakeCheckLog is a CheckLog with one report.
type fakeCheckLog struct {
	key naming.ServiceKey
	ik  naming.InstanceKey
	r   naming.ProbeReport
}

func (f *fakeCheckLog) LastCheck(key naming.ServiceKey, ik naming.InstanceKey) (naming.ProbeReport, bool) {
	if key == f.key && ik == f.ik {
		return f.r, true
	}
	return naming.ProbeReport{}, false
}

func TestInstanceDetailShowsLastCheck(t *testing.T) {
	e := newEnv(t)
	in := healthyInstance("10.0.0.1", 8080)
	in.Ephemeral = false
	e.register(demo, in)
	other := healthyInstance("10.0.0.2", 8080)
	other.Ephemeral = false
	e.register(demo, other)
	get := func(ip string) map[string]any {
		return decode(t, e.must(200, "GET", "/nacos/v1/ns/instance?serviceName=demo&port=8080&ip="+ip, ""))
	}
	if m := get("10.0.0.1"); m["lastCheck"] != nil {
		t.Fatalf("never checked, yet lastCheck = %v", m["lastCheck"])
	}

	// A flip written by the owning node: shown from the instance.
	if err := e.cat.Apply(naming.Op{Kind: naming.OpSetHealth, Time: 1000, Service: demo, Target: in.Key(),
		Healthy: false, Check: &naming.CheckResult{Time: 1000, Reason: "connection refused"}}); err != nil {
		t.Fatal(err)
	}
	lc, _ := get("10.0.0.1")["lastCheck"].(map[string]any)
	if lc["time"] != 1000.0 || lc["ok"] != false || lc["reason"] != "connection refused" {
		t.Fatalf("lastCheck from the flip = %v", lc)
	}

	// This node's probes are newer: shown from the check log.
	e.s.SetCheckLog(&fakeCheckLog{key: demo, ik: in.Key(), r: naming.ProbeReport{Time: 5000, OK: false, Reason: "timeout after 500ms"}})
	lc, _ = get("10.0.0.1")["lastCheck"].(map[string]any)
	if lc["time"] != 5000.0 || lc["ok"] != false || !strings.HasPrefix(lc["reason"].(string), "timeout") {
		t.Fatalf("lastCheck from the log = %v", lc)
	}
	if m := get("10.0.0.2"); m["lastCheck"] != nil {
		t.Fatalf("instance the log does not know: lastCheck = %v", m["lastCheck"])
	}
	e.s.SetCheckLog(nil)
	if lc, _ := get("10.0.0.1")["lastCheck"].(map[string]any); lc["time"] != 1000.0 {
		t.Fatalf("after SetCheckLog(nil): %v", lc)
	}
}
