package httpfront

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"sextant/naming"
)

// stampRE matches lastRefTime, the only part of a list that changes with
// the clock.
var stampRE = regexp.MustCompile(`"lastRefTime":[0-9]+}$`)

// listRequest builds a GET instance/list with the query and header pairs.
func listRequest(query string, hdr ...string) *http.Request {
	r := httptest.NewRequest("GET", "/nacos/v1/ns/instance/list", nil)
	r.URL.RawQuery = query
	r.RequestURI = r.URL.RequestURI()
	r.RemoteAddr = "127.0.0.1:40000"
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

// listQueries are instance/list queries over the parameters the route
// reads, well and badly formed, encoded and raw.
func listQueries() []string {
	qs := []string{
		"", "serviceName=", "serviceName=%20", "serviceName=demo", "dom=demo", "serviceName=&dom=demo",
		"serviceName=DEFAULT_GROUP@@demo", "serviceName=DEFAULT_GROUP%40%40demo", "serviceName=g@@demo",
		"serviceName=demo&groupName=g", "serviceName=g@@demo&groupName=other", "serviceName=a@@b@@c",
		"serviceName=" + strings.Repeat("x", 600), "serviceName=de%01mo", "serviceName=+demo+",
		"serviceName=demo&serviceName=other", "serviceName=other&serviceName=demo", "serviceName=nosuch",
		"serviceName=demo&namespaceId=", "serviceName=demo&namespaceId=public", "serviceName=demo&namespaceId=ns1",
		"serviceName=demo&namespaceId=%7Bns%7D", "serviceName=demo&healthyOnly=true", "serviceName=demo&healthyOnly=1",
		"serviceName=demo&healthyOnly=no", "serviceName=demo&healthyOnly=maybe", "serviceName=demo&healthyOnly=",
		"serviceName=demo&clusters=DEFAULT", "serviceName=demo&clusters=a,b", "serviceName=demo&clusters=a%2Cb",
		"serviceName=demo&clusters=" + strings.Repeat("c", 300), "serviceName=demo&env=prod&app=shop",
		"serviceName=demo&udpPort=0", "serviceName=demo&udpPort=-1", "serviceName=demo&udpPort=65536",
		"serviceName=demo&udpPort=x", "serviceName=demo&udpPort=40001&clientIP=10.1.1.1",
		"serviceName=demo&udpPort=40002&clientIP=10.1.1.2&clusters=DEFAULT&app=a", "serviceName=demo&udpPort=+40003",
		"serviceName=demo&consistent=true", "a=%zz&serviceName=demo&&=x", "serviceName=demo&x={\"a\":\"b&c\"}",
		"x={\"a\":\"b&serviceName=no\"}&serviceName=demo", "serviceName=demo;x", "serviceName=demo&clusters=[a&b]",
		"serviceName=%64emo", "servic%65Name=demo", "serviceName=demo%", "serviceName=de+mo&clusters=a+b",
		"namespaceId=&serviceName=DEFAULT_GROUP@@demo&app=&clusters=&udpPort=0&healthyOnly=false&clientIP=10.0.0.9",
		"serviceName=demo&accessToken=x&username=u&password=p",
	}
	return qs
}

// newListEnv is an env whose catalog holds demo (one unhealthy, one
// disabled instance among them) in two clusters, and g@@demo in ns1.
func newListEnv(t *testing.T, mutate ...func(*Config)) *env {
	e := newEnv(t, mutate...)
	for i, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"} {
		in := healthyInstance(ip, 8080+i)
		in.Metadata = map[string]string{"zone": "a"}
		if i == 1 {
			in.Healthy = false
		}
		if i == 2 {
			in.Cluster = "b"
		}
		if i == 3 {
			in.Enabled = false
		}
		e.register(demo, in)
	}
	e.register(naming.NewServiceKey("ns1", "g", "demo"), healthyInstance("10.0.1.1", 1))
	return e
}

// A list's form body parameters count, as for every route.
func TestListWithFormBody(t *testing.T) {
	e := newListEnv(t)
	rec := e.req("GET", "/nacos/v1/ns/instance/list", "serviceName=demo")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "10.0.0.1") {
		t.Errorf("list with a form body: %d %s", rec.Code, rec.Body.String())
	}
}

// leaderCluster is a fakeCluster whose CP data has a leader.
type leaderCluster struct {
	fakeCluster
	mu       sync.Mutex
	isLeader bool
	barrier  error
	barriers int
}

func (l *leaderCluster) Reads() LeaderReads { return l }

func (l *leaderCluster) IsLeader() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.isLeader
}

func (l *leaderCluster) ReadBarrier(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.barriers++
	return l.barrier
}

func newLeaderEnv(t *testing.T, mutate ...func(*Config)) (*env, *leaderCluster) {
	cat := naming.NewCatalog()
	w := &testWriter{cat: cat}
	cl := &leaderCluster{fakeCluster: fakeCluster{leader: "10.0.0.5:8848"}}
	cfg := DefaultConfig()
	cfg.Addr, cfg.Push.Listen = "127.0.0.1:0", "127.0.0.1:0"
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := New(cfg, cat, w, cl, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := &env{t: t, s: s, h: s.Handler(), cat: cat, w: w, cl: &cl.fakeCluster}
	e.register(demo, healthyInstance("10.0.0.1", 1))
	return e, cl
}

// A node serving HTTPS redirects consistent reads to the leader over HTTPS.
func TestConsistentReadRedirectKeepsTheScheme(t *testing.T) {
	e, _ := newLeaderEnv(t, func(c *Config) { c.TLS = &tls.Config{} })
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, listRequest("serviceName=demo&consistent=true"))
	if rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Location") != "https://10.0.0.5:8848/nacos/v1/ns/instance/list?serviceName=demo&consistent=true" {
		t.Fatalf("consistent read on a follower serving HTTPS: %d %v", rec.Code, rec.Header())
	}
}

func TestListConsistentReadThroughHandler(t *testing.T) {
	e, cl := newLeaderEnv(t)
	// A follower redirects consistent reads to the leader.
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, listRequest("serviceName=demo&consistent=true"))
	if rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Location") != "http://10.0.0.5:8848/nacos/v1/ns/instance/list?serviceName=demo&consistent=true" {
		t.Fatalf("consistent read on a follower: %d %v", rec.Code, rec.Header())
	}
	// Escaped, the parameter still counts, as url.ParseQuery reads it.
	rec = httptest.NewRecorder()
	e.h.ServeHTTP(rec, listRequest("serviceName=demo&consisten%74=TRUE"))
	if rec.Code != http.StatusTemporaryRedirect {
		t.Fatalf("escaped consistent parameter: %d", rec.Code)
	}
	// Other reads stay local.
	if rec = e.must(200, "GET", "/nacos/v1/ns/instance/list?serviceName=demo&consistent=false", ""); !strings.Contains(rec.Body.String(), "10.0.0.1") {
		t.Errorf("a read that is not consistent: %q", rec.Body.String())
	}
	// On the leader: the barrier runs, then the list.
	cl.mu.Lock()
	cl.isLeader = true
	cl.mu.Unlock()
	rec = httptest.NewRecorder()
	e.h.ServeHTTP(rec, listRequest("serviceName=demo&consistent=1"))
	cl.mu.Lock()
	n := cl.barriers
	cl.mu.Unlock()
	if rec.Code != 200 || n != 1 {
		t.Fatalf("consistent read on the leader: %d after %d barriers", rec.Code, n)
	}
	// A plain read runs no barrier.
	e.h.ServeHTTP(httptest.NewRecorder(), listRequest("serviceName=demo"))
	cl.mu.Lock()
	n = cl.barriers
	cl.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d barriers after a plain read, want 1", n)
	}
}

func TestMayAskConsistentAgreesWithURLQuery(t *testing.T) {
	for _, q := range []string{"", "consistent=true", "a=1&consistent=1", "consisten%74=true", "%63onsistent=yes",
		"consistent", "x=consistent", "consistent;x=true", "Consistent=true", "consistent+=true", "c=1&&consistent=yes&"} {
		r := listRequest(q)
		if v := strings.ToLower(r.URL.Query().Get("consistent")); (v == "true" || v == "1" || v == "yes") && !mayAskConsistent(q) {
			t.Errorf("%q: url.Query finds consistent, mayAskConsistent does not", q)
		}
	}
}

func TestListRecoversWhenObserveFails(t *testing.T) {
	e := newListEnv(t, func(c *Config) {
		c.Observe = func(string, string, int, time.Duration) { panic("observer broke") }
	})
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, listRequest("serviceName=demo"))
	// The answer was written before the hook ran: it stands.
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "10.0.0.1") {
		t.Fatalf("%d %q", rec.Code, rec.Body.String())
	}
	if e.s.InFlight() != 0 {
		t.Fatalf("%d in flight after a panic", e.s.InFlight())
	}
}

func TestParamsGetAsValuesGet(t *testing.T) {
	keys := []string{"a", "b", "serviceName", "x", "k", "", "a b"}
	for _, s := range []string{"a=1&b=2&a=3", "a= 1 &b", "serviceName=g@@s&x={\"a\":\"&\"}&x=2", "a+b=1", "a%20b=2&a=",
		"=1&a", "k=[1,&2]&k=3", "%zz=1&a=%41"} {
		v := values{}
		parseForm(v, s)
		var ps params
		ps.add(s)
		for _, k := range keys {
			if ps.get(k) != v.get(k) {
				t.Errorf("%q: get(%q) = %q, values say %q", s, k, ps.get(k), v.get(k))
			}
		}
	}
}

func FuzzListParams(f *testing.F) {
	for _, q := range listQueries() {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		v := values{}
		parseForm(v, q)
		p := &request{query: q}
		want, got := listParamsOf(p), scanListParams(q)
		if want != got {
			t.Fatalf("%q: scanned %+v, parsed %+v", q, got, want)
		}
		// Each parameter as the map-building reader has it.
		n := 0
		for k, vs := range v {
			if p.get(k) != v.get(k) {
				t.Fatalf("%q: get(%q) = %q, values say %q", q, k, p.get(k), v.get(k))
			}
			n += len(vs)
		}
		if p.load(); n != len(p.v) {
			t.Fatalf("%q: %d parameters, values hold %d", q, len(p.v), n)
		}
		byMap := values{}
		for _, kv := range p.v {
			byMap[kv.k] = append(byMap[kv.k], kv.v)
		}
		if !reflect.DeepEqual(byMap, v) {
			t.Fatalf("%q: params %v, values %v", q, byMap, v)
		}
	})
}

// isFormOld is isForm as it was, through mime.ParseMediaType.
func isFormOld(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	return mt == "application/x-www-form-urlencoded"
}

func FuzzIsForm(f *testing.F) {
	for _, ct := range []string{"", formCT, "application/x-www-form-urlencoded", "APPLICATION/X-WWW-FORM-URLENCODED ; x",
		"application/json", "application/x-www-form-urlencoded;;", "text/plain; charset=\"", " application/x-www-form-urlencoded",
		"application/x-www-form-urlencoded\u00a0", "application/x-www-form-urlencoded;a=b;a=c", "application/x-www-ſorm-urlencoded",
		"multipart/form-data; boundary=x", ";"} {
		f.Add(ct)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		if isForm(ct) != isFormOld(ct) {
			t.Fatalf("isForm(%q) = %v, mime says %v", ct, isForm(ct), !isForm(ct))
		}
	})
}

func TestParseVersion(t *testing.T) {
	cases := map[string][3]int{
		"": {}, "v1": {1}, "1.4": {1, 4}, "v1.4.1": {1, 4, 1}, "1.4.1.9": {1, 4, 1}, " v2.0.0-beta ": {2, 0, 0},
		"1..3": {1, 0, 3}, "x.y.z": {}, "1.2.3.4.5": {1, 2, 3}, ".5": {0, 5}, "9999999": {9999999},
	}
	for in, want := range cases {
		if got := parseVersion(in); got != want {
			t.Errorf("parseVersion(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestReadBody(t *testing.T) {
	cases := []struct {
		body   string
		n, max int64
		want   string
		err    string
	}{
		{"a=1", 3, 1024, "a=1", ""},
		{"a=1", -1, 1024, "a=1", ""},
		{"", 0, 1024, "", ""},
		{"a=1", 5, 1024, "a=1", ""},         // shorter than announced
		{"a=1&b=2", 3, 1024, "a=1&b=2", ""}, // longer than announced
		{strings.Repeat("x", 11), 11, 10, "", "larger than 10"},
		{strings.Repeat("x", 11), -1, 10, "", "larger than 10"},
		{strings.Repeat("x", 11), 4, 10, "", "larger than 10"},
		{strings.Repeat("x", 10), 10, 10, strings.Repeat("x", 10), ""},
	}
	for _, c := range cases {
		got, err := readBody(strings.NewReader(c.body), c.n, c.max)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q (announced %d, max %d): error %v, want %q", c.body, c.n, c.max, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q (announced %d, max %d) = %q, %v; want %q", c.body, c.n, c.max, got, err, c.want)
		}
	}
}

// rawGet sends a GET over a new connection and returns the raw response.
func rawGet(t *testing.T, addr, target string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var dateRE = regexp.MustCompile(`\r\nDate: ([^\r]*)\r\n`)

// maskDate checks the Date header and replaces its value.
func maskDate(t *testing.T, raw string) string {
	t.Helper()
	m := dateRE.FindStringSubmatch(raw)
	if m == nil {
		t.Fatalf("no Date header in %q", raw)
	}
	d, err := http.ParseTime(m[1])
	if err != nil || m[1] != d.UTC().Format(http.TimeFormat) || time.Since(d) > 3*time.Second || time.Until(d) > time.Second {
		t.Fatalf("Date %q: %v", m[1], err)
	}
	return dateRE.ReplaceAllString(raw, "\r\nDate: -\r\n")
}

// On the wire a list is what a plain net/http handler writing the same
// bytes with Content-Type and Content-Length sends, Date included.
func TestListOnTheWireAsPlainNetHTTP(t *testing.T) {
	e := newListEnv(t)
	front := httptest.NewServer(e.h)
	defer front.Close()
	target := "/nacos/v1/ns/instance/list?serviceName=demo"
	got := maskDate(t, rawGet(t, front.Listener.Addr().String(), target))
	_, body, ok := strings.Cut(got, "\r\n\r\n")
	if !ok || !strings.HasSuffix(body, "}") {
		t.Fatalf("response %q", got)
	}
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json;charset=UTF-8"}
		h["Content-Length"] = []string{fmt.Sprint(len(body))}
		w.Write([]byte(body))
	}))
	defer plain.Close()
	want := maskDate(t, rawGet(t, plain.Listener.Addr().String(), target))
	if got != want {
		t.Fatalf("on the wire:\n%q\nplain net/http:\n%q", got, want)
	}
	// Through gin (a form body sends the request there), the same layout.
	e2 := newListEnv(t)
	viaGin := httptest.NewServer(e2.s.gin)
	defer viaGin.Close()
	g := maskDate(t, rawGet(t, viaGin.Listener.Addr().String(), target))
	if stampRE.ReplaceAllString(strings.SplitN(g, "\r\n\r\n", 2)[1], "") != stampRE.ReplaceAllString(body, "") ||
		strings.SplitN(g, "\r\n\r\n", 2)[0] != strings.SplitN(got, "\r\n\r\n", 2)[0] {
		t.Fatalf("through gin:\n%q\nfast:\n%q", g, got)
	}
}

// check validates as the request helpers the other routes use.
func TestListCheckAsRequestHelpers(t *testing.T) {
	for _, q := range listQueries() {
		p := &request{query: q}
		lp := listParamsOf(p)
		got, gotErr := lp.check()
		var want listQuery
		var wantErr error
		if want.key, wantErr = p.service(); wantErr == nil {
			if want.healthyOnly, wantErr = p.boolOr(false, "healthyOnly"); wantErr == nil {
				want.udpPort, wantErr = p.integer("udpPort", 0, 0, 65535)
			}
		}
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || (wantErr == nil && got != want) {
			t.Errorf("%q: check %+v %v, helpers %+v %v", q, got, gotErr, want, wantErr)
		}
	}
}
