package grpcfront

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"sextant/naming"
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

// BenchmarkPushFanout: one change of a service pushed to 1,000 subscribed
// connections, each acking; an op ends when every subscriber has the push.
func BenchmarkPushFanout(b *testing.B) {
	f := start(&testing.T{}, func(c *Config) { c.PushMergeDelay = 0 }, nil)
	defer f.srv.Close()
	const n = 1000
	var got atomic.Int64
	for i := 0; i < n; i++ {
		c := dialRaw(&testing.T{}, f.port())
		c.connect()
		c.ready()
		c.call(typeSubscribe, map[string]any{"serviceName": "fan", "subscribe": true}, nil)
		go func() {
			for p := range c.recv {
				if p.Type != typeNotifySubscriber {
					continue
				}
				var r response
				_ = json.Unmarshal(p.Body, &r)
				ack, _ := json.Marshal(response{ResultCode: codeOK, Success: true, RequestID: r.RequestID})
				_ = c.bi.SendMsg(&Payload{Type: typeNotifySubResp, Body: ack})
				got.Add(1)
			}
		}()
	}
	key := naming.NewServiceKey("", "", "fan")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		want := got.Load() + n
		if err := f.w.Apply(context.Background(), naming.Op{Kind: naming.OpRegister, Service: key,
			Instance: &naming.Instance{IP: "10.12.0.1", Port: 1 + i%60000, Cluster: "DEFAULT", Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}}); err != nil {
			b.Fatal(err)
		}
		for got.Load() < want {
			time.Sleep(time.Millisecond)
		}
	}
}
