package httpfront

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"sextant/naming"
)

// discard is a ResponseWriter that keeps nothing, so the benchmarks
// measure the handler rather than a recorder's buffer.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkInstanceList serves a list through Handler, gin's route; the
// socket's path is BenchmarkWireList.
func BenchmarkInstanceList(b *testing.B) {
	e := newEnv(b)
	for i, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		in := healthyInstance(ip, 8080+i)
		in.Metadata = map[string]string{"zone": "a", "version": "1.2.3"}
		e.register(demo, in)
	}
	r := httptest.NewRequest("GET", "/nacos/v1/ns/instance/list?namespaceId=&serviceName=DEFAULT_GROUP@@demo&app=&clusters=&udpPort=0&healthyOnly=false&clientIP=10.0.0.9", nil)
	r.Header.Set("User-Agent", goUA)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.h.ServeHTTP(w, r)
	}
}

func BenchmarkBeat(b *testing.B) {
	e := newEnv(b)
	e.w.quiet = true
	e.register(demo, healthyInstance("10.0.0.1", 8080))
	body := `beat={"ip":"10.0.0.1","port":8080,"weight":1,"serviceName":"DEFAULT_GROUP@@demo","cluster":"","metadata":{},"scheduled":false}&serviceName=DEFAULT_GROUP@@demo`
	w := &discard{h: http.Header{}}
	rd := strings.NewReader(body)
	r := httptest.NewRequest("PUT", "/nacos/v1/ns/instance/beat", rd)
	r.Header.Set("Content-Type", formCT)
	r.Header.Set("User-Agent", goUA)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rd.Reset(body)
		e.h.ServeHTTP(w, r)
	}
	b.StopTimer()
	if svc := e.service(demo); len(svc.Instances) != 1 {
		b.Fatal("beat changed the instance set")
	}
}

func BenchmarkRenderListUncached(b *testing.B) {
	e := newEnv(b)
	for i, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		e.register(demo, healthyInstance(ip, 8080+i))
	}
	svc := e.service(demo)
	v := listView{key: demo, cacheMillis: 3000}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		renderFresh(svc, v)
	}
}

// BenchmarkRegister posts the body nacos-sdk-go v1.1.4 sends to register
// an ephemeral instance, cycling over 1,024 instances in 256 services, so
// that the catalog's share of the cost stays small and bounded.
func BenchmarkRegister(b *testing.B) {
	e := newEnv(b)
	e.w.quiet = true
	bodies := make([]string, 1024)
	for i := range bodies {
		bodies[i] = "app=&clusterName=&enable=true&ephemeral=true&groupName=DEFAULT_GROUP&healthy=true&ip=10.0.0." +
			strconv.Itoa(i%4+1) + "&metadata=%7B%22zone%22%3A%22a%22%2C%22version%22%3A%221.2.3%22%7D" +
			"&namespaceId=&port=8080&serviceName=DEFAULT_GROUP%40%40svc-" + strconv.Itoa(i/4) + "&weight=1"
	}
	w := &discard{h: http.Header{}}
	rd := strings.NewReader("")
	r := httptest.NewRequest("POST", "/nacos/v1/ns/instance", rd)
	r.Header.Set("Content-Type", formCT)
	r.Header.Set("User-Agent", goUA)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := bodies[i%len(bodies)]
		rd.Reset(body)
		r.ContentLength = int64(len(body))
		clear(w.h)
		e.h.ServeHTTP(w, r)
	}
	b.StopTimer()
	svc := e.service(naming.NewServiceKey("", "", "svc-0"))
	if svc == nil || len(svc.Instances) != min(b.N, 4) {
		b.Fatalf("service svc-0 after the benchmark: %+v", svc)
	}
}
