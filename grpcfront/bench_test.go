package grpcfront

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkRegister: InstanceRequest registrations of new instances over
// one connection per parallel worker, against a lone in-memory catalog.
func BenchmarkRegister(b *testing.B) {
	f := start(&testing.T{}, nil, nil)
	defer f.srv.Close()
	var seq atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		c := dialRaw(&testing.T{}, f.port())
		c.connect()
		c.ready()
		for pb.Next() {
			k := seq.Add(1)
			body := []byte(`{"type":"registerInstance","namespace":"public","groupName":"DEFAULT_GROUP","serviceName":"bench-` +
				strconv.FormatInt(k%100, 10) + `","module":"naming","instance":{"ip":"10.` + strconv.FormatInt(k>>16&255, 10) + `.` +
				strconv.FormatInt(k>>8&255, 10) + `.` + strconv.FormatInt(k&255, 10) + `","port":9000,"weight":1,"healthy":true,` +
				`"enabled":true,"ephemeral":true,"clusterName":"","metadata":{}}}`)
			var out Payload
			if err := c.cc.Invoke(context.Background(), "/Request/request", &Payload{Type: typeInstance, Body: body}, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
