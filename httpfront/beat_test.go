package httpfront

import (
	"errors"
	"testing"

	"sextant/naming"
)

const beatPath = "/nacos/v1/ns/instance/beat"

func TestFullBeatFromGoClientRecreatesInstance(t *testing.T) {
	e := newEnv(t)
	// nacos-sdk-go v1.1.4: unescaped PUT body, no ip/port params, cluster "".
	body := `beat={"ip":"10.0.0.1","port":8080,"weight":1,"serviceName":"DEFAULT_GROUP@@demo","cluster":"","metadata":{"v":"1.0+b&c=d"},"scheduled":false}&serviceName=DEFAULT_GROUP@@demo`
	m := decode(t, e.must(200, "PUT", beatPath, body, "User-Agent", goUA))
	if m["clientBeatInterval"] != 5000.0 || m["code"] != 10200.0 || m["lightBeatEnabled"] != true {
		t.Fatalf("beat reply = %v", m)
	}
	svc := e.service(demo)
	if svc == nil || len(svc.Instances) != 1 {
		t.Fatalf("full beat did not re-create the instance: %+v", svc)
	}
	in := svc.Instances[0]
	if in.IP != "10.0.0.1" || in.Port != 8080 || in.Cluster != "DEFAULT" || !in.Ephemeral || !in.Healthy || !in.Enabled || in.Weight != 1 {
		t.Fatalf("re-created instance = %+v", in)
	}
	// '+' and a raw '&' inside the unescaped JSON survive.
	if in.Metadata["v"] != "1.0+b&c=d" {
		t.Fatalf("metadata = %q", in.Metadata)
	}
	if op := e.w.lastOp(); op.Kind != naming.OpBeat || op.Instance == nil || op.Target != in.Key() || op.Time != 0 {
		t.Fatalf("beat op = %+v", op)
	}
}

func TestBeatFromJavaClient(t *testing.T) {
	e := newEnv(t)
	in := healthyInstance("10.0.0.1", 8080)
	in.Cluster = "c1"
	in.Metadata = map[string]string{naming.MetaBeatInterval: "2000"}
	e.register(demo, in)
	// Java 1.4.1: params in the query, beat form-encoded in the body.
	q := "?namespaceId=public&serviceName=DEFAULT_GROUP%40%40demo&clusterName=c1&ip=10.0.0.1&port=8080"
	body := "beat=%7B%22port%22%3A8080%2C%22ip%22%3A%2210.0.0.1%22%2C%22weight%22%3A1.0%2C%22serviceName%22%3A%22DEFAULT_GROUP%40%40demo%22%2C%22cluster%22%3A%22c1%22%2C%22metadata%22%3A%7B%7D%2C%22scheduled%22%3Afalse%2C%22period%22%3A5000%2C%22stopped%22%3Afalse%7D"
	m := decode(t, e.must(200, "PUT", beatPath+q, body, "User-Agent", javaUA))
	if m["clientBeatInterval"] != 2000.0 || m["code"] != 10200.0 {
		t.Fatalf("beat reply = %v (the instance's own interval)", m)
	}
	// Light beat (no beat param).
	m = decode(t, e.must(200, "PUT", beatPath+q, "", "User-Agent", javaUA))
	if m["clientBeatInterval"] != 2000.0 || m["code"] != 10200.0 {
		t.Fatalf("light beat reply = %v", m)
	}
}

func TestLightBeatForMissingInstanceAnswers20404(t *testing.T) {
	e := newEnv(t)
	rec := e.must(200, "PUT", beatPath+"?serviceName=demo&ip=10.0.0.1&port=8080", "")
	if rec.Body.String() != `{"clientBeatInterval":5000,"code":20404}` {
		t.Fatalf("body %q", rec.Body.String())
	}
	if e.service(demo) != nil {
		t.Fatal("a light beat created something")
	}
	// The switch drives the interval and lightBeatEnabled.
	e.must(200, "PUT", "/nacos/v1/ns/operator/switches?entry=clientBeatInterval&value=7000", "")
	e.must(200, "PUT", "/nacos/v1/ns/operator/switches?entry=lightBeatEnabled&value=false", "")
	m := decode(t, e.must(200, "PUT", beatPath+"?serviceName=demo&ip=10.0.0.1&port=8080", ""))
	if m["clientBeatInterval"] != 7000.0 || m["code"] != 20404.0 {
		t.Fatalf("reply = %v", m)
	}
	e.register(demo, healthyInstance("10.0.0.1", 8080))
	if b := e.must(200, "PUT", beatPath+"?serviceName=demo&ip=10.0.0.1&port=8080", "").Body.String(); b != `{"clientBeatInterval":7000,"code":10200,"lightBeatEnabled":false}` {
		t.Fatalf("body %q", b)
	}
}

func TestBeatRecordsTheBeat(t *testing.T) {
	e := newEnv(t)
	e.register(demo, healthyInstance("10.0.0.1", 8080))
	before := e.service(demo).Instances[0].LastBeat()
	e.must(200, "PUT", beatPath, `beat={"ip":"10.0.0.1","port":8080,"cluster":"DEFAULT"}&serviceName=demo`)
	if after := e.service(demo).Instances[0].LastBeat(); after < before {
		t.Fatalf("last beat went from %d to %d", before, after)
	}
	// A beat brings an unhealthy ephemeral instance back.
	sick := healthyInstance("10.0.0.2", 8080)
	sick.Healthy = false
	e.register(demo, sick)
	e.must(200, "PUT", beatPath+"?serviceName=demo&ip=10.0.0.2&port=8080", "")
	if in := e.service(demo).Find(sick.Key()); !in.Healthy {
		t.Fatal("beat did not make the instance healthy")
	}
}

func TestBadBeats(t *testing.T) {
	e := newEnv(t)
	cases := map[string]string{
		"not json":       `beat=hello&serviceName=demo`,
		"no ip":          `beat={"port":1}&serviceName=demo`,
		"bad ip":         `beat={"ip":"1.2.3","port":1}&serviceName=demo`,
		"bad port":       `beat={"ip":"10.0.0.1","port":70000}&serviceName=demo`,
		"port type":      `beat={"ip":"10.0.0.1","port":true}&serviceName=demo`,
		"weight":         `beat={"ip":"10.0.0.1","port":1,"weight":-1}&serviceName=demo`,
		"metadata":       `beat={"ip":"10.0.0.1","port":1,"metadata":[1]}&serviceName=demo`,
		"nested md":      `beat={"ip":"10.0.0.1","port":1,"metadata":{"a":{"b":1}}}&serviceName=demo`,
		"cluster":        `beat={"ip":"10.0.0.1","port":1,"cluster":"a b"}&serviceName=demo`,
		"no service":     `beat={"ip":"10.0.0.1","port":1}`,
		"light, no ip":   `serviceName=demo&port=1`,
		"light, no port": `serviceName=demo&ip=10.0.0.1`,
		"trailing":       `beat={"ip":"10.0.0.1","port":1}x&serviceName=demo`,
	}
	for name, body := range cases {
		rec := e.req("PUT", beatPath, body)
		if rec.Code != 400 || rec.Body.Len() == 0 {
			t.Errorf("%s: status %d body %q, want 400 with a message", name, rec.Code, rec.Body.String())
		}
	}
	if svcs := e.cat.Services("", ""); len(svcs) != 0 {
		t.Fatalf("bad beats changed the catalog: %d services", len(svcs))
	}
}

func TestParseBeatLenient(t *testing.T) {
	b, err := parseBeat(`{"ip":" 10.0.0.1 ","port":"8080","weight":"2","metadata":{"n":1,"b":true,"z":null},"ephemeral":"false","load":1,"scheduled":true}`)
	if err != nil {
		t.Fatal(err)
	}
	if b.IP != "10.0.0.1" || b.Port != 8080 || b.Weight != 2 || b.Metadata["n"] != "1" || b.Metadata["b"] != "true" || b.Ephemeral {
		t.Fatalf("beat = %+v", b)
	}
	b, err = parseBeat(`{"ip":"::1","port":1}`)
	if err != nil || !b.Ephemeral || b.Weight != 1 || b.Metadata == nil {
		t.Fatalf("defaults: %+v %v", b, err)
	}
}

func FuzzParseBeat(f *testing.F) {
	f.Add(`{"ip":"10.0.0.1","port":8080,"weight":1,"serviceName":"DEFAULT_GROUP@@demo","cluster":"","metadata":{},"scheduled":false}`)
	f.Add(`{"port":8080,"ip":"10.0.0.1","weight":1.0,"cluster":"c1","metadata":{"a":"b"},"period":5000,"stopped":false}`)
	f.Add(`{"ip":"::1","port":"1","metadata":"k=v","ephemeral":"no"}`)
	f.Add(`{"ip":"10.0.0.1","port":1e400}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, raw string) {
		b, err := parseBeat(raw)
		if err != nil {
			if b != nil {
				t.Fatal("error with a result")
			}
			return
		}
		in := &naming.Instance{IP: b.IP, Port: b.Port, Cluster: "DEFAULT", Weight: b.Weight, Metadata: b.Metadata}
		if err := naming.ValidateInstance(in); err != nil && !errors.Is(err, naming.ErrTooLarge) {
			t.Fatalf("accepted beat %q makes an invalid instance: %v", raw, err)
		}
		if b.Metadata == nil {
			t.Fatal("nil metadata")
		}
	})
}
