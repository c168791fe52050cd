package grpcfront

import (
	"bytes"
	"context"
	"strconv"
	"sync/atomic"
	"syscall"
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
	cpu0 := processCPU()
	defer func() {
		b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	}()
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

// BenchmarkPushFanout: one change of a service (one instance registered,
// then deregistered, so every push has the same size) pushed to 1,000
// subscribed connections, each acking; an op ends when every subscriber
// has the push. Client and server share the process.
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
				// The requestId comes first: {"requestId":"<digits>"
				id, _, _ := bytes.Cut(bytes.TrimPrefix(p.Body, []byte(`{"requestId":"`)), []byte(`"`))
				ack := append(append([]byte(`{"resultCode":200,"success":true,"requestId":"`), id...), `"}`...)
				_ = c.bi.SendMsg(&Payload{Type: typeNotifySubResp, Body: ack})
				got.Add(1)
			}
		}()
	}
	key := naming.NewServiceKey("", "", "fan")
	in := &naming.Instance{IP: "10.12.0.1", Port: 1, Cluster: "DEFAULT", Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		want := got.Load() + n
		op := naming.Op{Kind: naming.OpRegister, Service: key, Instance: in}
		if i%2 == 1 {
			op = naming.Op{Kind: naming.OpDeregister, Service: key, Target: in.Key()}
		}
		if err := f.w.Apply(context.Background(), op); err != nil {
			b.Fatal(err)
		}
		for got.Load() < want {
			time.Sleep(100 * time.Microsecond)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/push")
	// CPU time tells more than wall time on a shared machine.
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N*n), "cpu-µs/push")
}

// processCPU is the CPU time this process used so far (user + system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPayloadMarshal: the encoding of one answer, as every unary
// request's reply goes through it.
func BenchmarkPayloadMarshal(b *testing.B) {
	p := &Payload{Type: typeInstanceResp, Headers: map[string]string{"accessToken": "token"},
		Body: []byte(`{"resultCode":200,"errorCode":0,"success":true,"requestId":"17","type":"registerInstance"}`)}
	b.ReportAllocs()
	for b.Loop() {
		if len(p.marshal()) == 0 {
			b.Fatal("empty")
		}
	}
}

// BenchmarkPushEncode: what each subscriber's push costs to encode once
// the render is shared (the first send of a render, then a resend).
func BenchmarkPushEncode(b *testing.B) {
	f := start(&testing.T{}, nil, nil)
	defer f.srv.Close()
	r := f.srv.renderPush(naming.NewServiceKey("", "", "enc"), "")
	b.Run("shared", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = f.srv.encodePush(r.id, r).marshal()
		}
	})
	b.Run("resend", func(b *testing.B) {
		id := f.srv.nextID()
		b.ReportAllocs()
		for b.Loop() {
			_ = f.srv.encodePush(id, r).marshal()
		}
	})
}
