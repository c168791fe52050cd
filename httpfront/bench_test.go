package httpfront

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// discard is a ResponseWriter that keeps nothing, so the benchmarks
// measure the handler rather than a recorder's buffer.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

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
		renderListHead(svc, v)
	}
}
