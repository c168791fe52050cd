package httpfront

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"sextant/naming"
)

func TestUnknownNamingPathsAre501(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ method, path, body string }{
		{"GET", "/nacos/v1/ns/nothing?x=1", "no such api:GET:/nacos/v1/ns/nothing?x=1"},
		{"DELETE", "/nacos/v1/ns/instance/list", "no such api:DELETE:/nacos/v1/ns/instance/list"},
		{"POST", "/nacos/v1/ns/instance/beat", "no such api:POST:/nacos/v1/ns/instance/beat"},
		{"GET", "/nacos/v1/ns/instance/", "no such api:GET:/nacos/v1/ns/instance/"},
	}
	for _, c := range cases {
		if b := e.must(501, c.method, c.path, "").Body.String(); b != c.body {
			t.Errorf("%s %s: body %q, want %q", c.method, c.path, b, c.body)
		}
	}
	e.must(404, "GET", "/nacos/v1/cs/configs", "")
	e.must(404, "GET", "/nothing", "")
	e.must(405, "POST", "/nacos/v1/console/health/liveness", "")
}

// TestBadInput checks that each malformed request gets a 4xx with a clear
// message and leaves the catalog as it was.
func TestBadInput(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = 4096 })
	e.register(demo, healthyInstance("10.0.0.1", 8080))
	before := e.service(demo)
	reg := "/nacos/v1/ns/instance?"
	cases := []struct {
		name, method, target, body string
		status                     int
		msg                        string
	}{
		{"missing ip", "POST", reg + "serviceName=demo&port=1", "", 400, "Param 'ip' is required."},
		{"missing port", "POST", reg + "serviceName=demo&ip=10.0.0.2", "", 400, "Param 'port' is required."},
		{"missing service", "POST", reg + "ip=10.0.0.2&port=1", "", 400, "Param 'serviceName' is required."},
		{"malformed ip", "POST", reg + "serviceName=demo&ip=10.0.0&port=1", "", 400, "Param 'ip' is illegal"},
		{"host name as ip", "POST", reg + "serviceName=demo&ip=example.com&port=1", "", 400, "Param 'ip' is illegal"},
		{"port not numeric", "POST", reg + "serviceName=demo&ip=10.0.0.2&port=http", "", 400, "Param 'port' is illegal"},
		{"port too large", "POST", reg + "serviceName=demo&ip=10.0.0.2&port=65536", "", 400, "Param 'port' is illegal"},
		{"port negative", "POST", reg + "serviceName=demo&ip=10.0.0.2&port=-1", "", 400, "Param 'port' is illegal"},
		{"weight too large", "POST", reg + "serviceName=demo&ip=10.0.0.2&port=1&weight=10001", "", 400, "The weights range from 0.0 to 10000.0"},
		{"weight negative", "POST", reg + "serviceName=demo&ip=10.0.0.2&port=1&weight=-0.5", "", 400, "The weights range"},
		{"weight NaN", "POST", reg + "serviceName=demo&ip=10.0.0.2&port=1&weight=NaN", "", 400, "The weights range"},
		{"weight text", "POST", reg + "serviceName=demo&ip=10.0.0.2&port=1&weight=heavy", "", 400, "Param 'weight' is illegal"},
		{"metadata garbage", "POST", reg + "serviceName=demo&ip=10.0.0.2&port=1&metadata=zone", "", 400, "metadata format incorrect:zone"},
		{"metadata bad json", "POST", reg + "serviceName=demo&ip=10.0.0.2&port=1&metadata=%7B%22a%22", "", 400, "metadata format incorrect"},
		{"metadata nested", "POST", reg + "serviceName=demo&ip=10.0.0.2&port=1&metadata=%7B%22a%22%3A%7B%7D%7D", "", 400, "metadata format incorrect"},
		{"metadata k=v=w", "POST", reg + "serviceName=demo&ip=10.0.0.2&port=1&metadata=a%3Db%3Dc", "", 400, "metadata format incorrect"},
		{"boolean garbage", "POST", reg + "serviceName=demo&ip=10.0.0.2&port=1&healthy=maybe", "", 400, "Param 'healthy' is illegal"},
		{"cluster name", "POST", reg + "serviceName=demo&ip=10.0.0.2&port=1&clusterName=a%20b", "", 400, "Param 'clusterName' is illegal"},
		{"service name control", "POST", reg + "serviceName=de%01mo&ip=10.0.0.2&port=1", "", 400, "Param 'serviceName' is illegal"},
		{"service name @@ twice", "POST", reg + "serviceName=a@@b@@c&ip=10.0.0.2&port=1", "", 400, "Param 'serviceName' is illegal"},
		{"body too large", "POST", "/nacos/v1/ns/instance", "serviceName=demo&ip=10.0.0.2&port=1&metadata=" + strings.Repeat("a", 5000), 413, "request body is larger than 4096 bytes"},
		{"update bad weight", "PUT", reg + "serviceName=demo&ip=10.0.0.1&port=8080&weight=1e9", "", 400, "The weights range"},
		{"patch bad metadata", "PATCH", reg + "serviceName=demo&ip=10.0.0.1&port=8080&metadata=x", "", 400, "metadata format incorrect"},
		{"deregister bad port", "DELETE", reg + "serviceName=demo&ip=10.0.0.1&port=x", "", 400, "Param 'port' is illegal"},
		{"list missing service", "GET", "/nacos/v1/ns/instance/list", "", 400, "Param 'serviceName' is required."},
		{"list bad healthyOnly", "GET", "/nacos/v1/ns/instance/list?serviceName=demo&healthyOnly=perhaps", "", 400, "Param 'healthyOnly' is illegal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := e.req(c.method, c.target, c.body)
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.msg) {
				t.Fatalf("status %d body %q, want %d containing %q", rec.Code, rec.Body.String(), c.status, c.msg)
			}
			if after := e.service(demo); after != before || len(e.cat.Services("", "")) != 1 {
				t.Fatal("a rejected request changed the catalog")
			}
		})
	}
}

func TestBodyLimitByContentLength(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = 2048 })
	r, _ := http.NewRequest("PUT", "/nacos/v1/ns/instance/beat", strings.NewReader(strings.Repeat("x", 3000)))
	r.Header.Set("Content-Type", formCT)
	rec := newRecorder()
	e.h.ServeHTTP(rec, r)
	if rec.Code != 413 {
		t.Fatalf("status %d, want 413", rec.Code)
	}
	// A JSON body is not form data and is ignored, but still bounded.
	r, _ = http.NewRequest("POST", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=1", strings.NewReader(`{"ip":"x"}`))
	r.Header.Set("Content-Type", "application/json")
	rec = newRecorder()
	e.h.ServeHTTP(rec, r)
	if rec.Code != 200 || e.service(demo).Instances[0].IP != "10.0.0.1" {
		t.Fatalf("status %d", rec.Code)
	}
}

func TestParseForm(t *testing.T) {
	cases := []struct {
		in   string
		want values
	}{
		// Encoded: '+' is a space, %XX decoded, a stray '%' kept.
		{"a=1+2&b=%41%zz&c=50%", values{"a": {"1 2"}, "b": {"A%zz"}, "c": {"50%"}}},
		// Raw (it has '@'): '+' stays.
		{"serviceName=DEFAULT_GROUP@@demo&v=1+2", values{"serviceName": {"DEFAULT_GROUP@@demo"}, "v": {"1+2"}}},
		// A raw '&' and '=' inside JSON are part of the value.
		{`beat={"metadata":{"q":"a&b=c"},"ip":"1"}&x=1`, values{"beat": {`{"metadata":{"q":"a&b=c"},"ip":"1"}`}, "x": {"1"}}},
		// An unclosed JSON value takes the rest of the string.
		{`beat={"a":"b&c=d`, values{"beat": {`{"a":"b&c=d`}}},
		// Semicolons are ordinary; empty pairs and keys are skipped; repeated keys keep order.
		{"a=1;2&&=x&a=3&flag", values{"a": {"1;2", "3"}, "flag": {""}}},
		{"", values{}},
	}
	for _, c := range cases {
		got := values{}
		parseForm(got, c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseForm(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	// Encoded strings parse as url.ParseQuery does.
	enc := url.Values{"k": {"a b+c&d=é%"}, "serviceName": {"g@@s"}}.Encode()
	got := values{}
	parseForm(got, enc)
	if got.get("k") != "a b+c&d=é%" || got.get("serviceName") != "g@@s" {
		t.Fatalf("encoded round trip = %v", got)
	}
}

func TestParseMetadata(t *testing.T) {
	cases := []struct {
		in       string
		want     map[string]string
		provided bool
		ok       bool
	}{
		{"", map[string]string{}, false, true},
		{"null", map[string]string{}, false, true},
		{`{}`, map[string]string{}, true, true},
		{`{"a":"1","n":2,"t":true,"z":null}`, map[string]string{"a": "1", "n": "2", "t": "true", "z": ""}, true, true},
		{"k=v,k2=v2", map[string]string{"k": "v", "k2": "v2"}, true, true},
		{"k=", map[string]string{"k": ""}, true, true},
		{"k", nil, false, false},
		{"=v", nil, false, false},
		{"a=b=c", nil, false, false},
		{`{"a":[1]}`, nil, false, false},
		{`{"a":"b"} {}`, nil, false, false},
		{`{"a":`, nil, false, false},
	}
	for _, c := range cases {
		got, provided, err := parseMetadata(c.in)
		if (err == nil) != c.ok || provided != c.provided || (c.ok && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("parseMetadata(%q) = %v, %v, %v", c.in, got, provided, err)
		}
	}
}

func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{"", "null", `{"a":"b"}`, "k=v,k2=v2", `{"n":1.5e3,"b":false}`, "a=b=c", `{"a":{}}`, "=,=", "\x00=\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		md, provided, err := parseMetadata(raw)
		if err != nil {
			if md != nil || provided {
				t.Fatal("error with a result")
			}
			if !strings.HasPrefix(err.Error(), "metadata format incorrect:") {
				t.Fatalf("unclear error %q", err)
			}
			return
		}
		if md == nil {
			t.Fatal("nil map without error")
		}
		if !provided && len(md) != 0 {
			t.Fatal("not provided but not empty")
		}
	})
}

func TestAgentParsing(t *testing.T) {
	sw := naming.DefaultSwitches()
	cases := []struct {
		ua      string
		grouped bool
		push    bool
	}{
		{"Nacos-Java-Client:v1.4.1", true, true},
		{"Nacos-Java-Client:v1.0.0", true, true},
		{"Nacos-Java-Client:v0.9.9", false, true},
		{"Nacos-Go-Client:v1.1.4", false, true},
		{"Nacos-Go-Client:v2.2.7", false, true},
		{"Nacos-C-Client:v1.0.11", false, false},
		{"Nacos-C-Client:v1.0.12", false, true},
		{"curl/8.5.0", false, false},
		{"", false, false},
	}
	for _, c := range cases {
		ci := parseAgent(c.ua)
		if ci.javaGrouped() != c.grouped || ci.canPush(sw) != c.push {
			t.Errorf("%q: grouped %v push %v", c.ua, ci.javaGrouped(), ci.canPush(sw))
		}
	}
	sw.PushEnabled = false
	if parseAgent(goUA).canPush(sw) {
		t.Error("push with pushEnabled=false")
	}
}

// TestRecoveryAnswers500: a handler that panics gets 500 from the
// pipeline, and the next request is served.
func TestRecoveryAnswers500(t *testing.T) {
	e := newEnv(t)
	rt := &route{method: "GET", path: "/boom", fn: func(context.Context, *request) answer { panic("boom") }}
	a := e.s.serve(context.Background(), rt, &request{method: "GET"}, rt.fn)
	if a.status != 500 || string(a.body) != "caused: internal error;" {
		t.Fatalf("status %d body %q", a.status, a.body)
	}
	if a := e.s.serve(context.Background(), rt, &request{method: "GET"}, func(context.Context, *request) answer { return okAnswer() }); a.status != 200 {
		t.Fatalf("after a panic: %d %q", a.status, a.body)
	}
}

func FuzzParseForm(f *testing.F) {
	for _, s := range []string{"a=1&b=2", `beat={"a":"b&c"}&x=1`, "%zz=%4", "k=[{]&&=&", "a+b=c+d", `x={"\"&"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := values{}
		parseForm(v, s)
		n := 0
		for k, vs := range v {
			if k == "" {
				t.Fatal("empty key")
			}
			n += len(vs)
		}
		if n > strings.Count(s, "&")+1 {
			t.Fatalf("%d values from %d pairs", n, strings.Count(s, "&")+1)
		}
	})
}
