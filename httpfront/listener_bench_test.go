package httpfront

import (
	"net"
	"strconv"
	"testing"

	"github.com/valyala/fasthttp"
)

// benchWire serves b.N requests through the listener's handler (the
// socket path without the socket): req(i) sets up request i.
func benchWire(b *testing.B, e *env, req func(r *fasthttp.Request, i int)) {
	h := e.s.newWireServer().Handler
	var ctx fasthttp.RequestCtx
	var r fasthttp.Request
	ctx.Init(&r, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx.Request.Reset()
		ctx.Response.Reset()
		req(&ctx.Request, i)
		h(&ctx)
		if ctx.Response.StatusCode() != 200 {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
}

func BenchmarkWireList(b *testing.B) {
	e := newEnv(b)
	for i, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		e.register(demo, healthyInstance(ip, 8080+i))
	}
	benchWire(b, e, func(r *fasthttp.Request, _ int) {
		r.SetRequestURI("/nacos/v1/ns/instance/list?namespaceId=&serviceName=DEFAULT_GROUP@@demo&app=&clusters=&udpPort=0&healthyOnly=false&clientIP=10.0.0.9")
		r.Header.SetUserAgent(goUA)
	})
}

func BenchmarkWireBeat(b *testing.B) {
	e := newEnv(b)
	e.w.quiet = true
	e.register(demo, healthyInstance("10.0.0.1", 8080))
	body := []byte(`beat={"ip":"10.0.0.1","port":8080,"weight":1,"serviceName":"DEFAULT_GROUP@@demo","cluster":"","metadata":{},"scheduled":false}&serviceName=DEFAULT_GROUP@@demo`)
	benchWire(b, e, func(r *fasthttp.Request, _ int) {
		r.Header.SetMethod("PUT")
		r.SetRequestURI("/nacos/v1/ns/instance/beat")
		r.Header.SetContentType(formCT)
		r.Header.SetUserAgent(goUA)
		r.SetBodyRaw(body)
	})
}

func BenchmarkWireRegister(b *testing.B) {
	e := newEnv(b)
	e.w.quiet = true
	bodies := make([][]byte, 1024)
	for i := range bodies {
		bodies[i] = []byte("app=&clusterName=&enable=true&ephemeral=true&groupName=DEFAULT_GROUP&healthy=true&ip=10.0.0." +
			strconv.Itoa(i%4+1) + "&metadata=%7B%22zone%22%3A%22a%22%7D&namespaceId=&port=8080&serviceName=DEFAULT_GROUP%40%40svc-" +
			strconv.Itoa(i/4) + "&weight=1")
	}
	benchWire(b, e, func(r *fasthttp.Request, i int) {
		r.Header.SetMethod("POST")
		r.SetRequestURI("/nacos/v1/ns/instance")
		r.Header.SetContentType(formCT)
		r.Header.SetUserAgent(goUA)
		r.SetBodyRaw(bodies[i%len(bodies)])
	})
}
