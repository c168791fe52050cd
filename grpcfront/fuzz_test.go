package grpcfront

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"sextant/naming"
)

// FuzzPayload: any bytes either decode or fail with an error; what decodes
// encodes and decodes again to the same payload.
func FuzzPayload(f *testing.F) {
	f.Add((&Payload{Type: "InstanceRequest", Headers: map[string]string{"a": "b"}, Body: []byte(`{}`)}).marshal())
	f.Add([]byte{0x12, 0x02, 0x1a, 0x00})
	f.Add([]byte{0x12, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Payload
		if err := p.unmarshal(b); err != nil {
			return
		}
		var q Payload
		if err := q.unmarshal(p.marshal()); err != nil {
			t.Fatalf("re-encoded payload does not decode: %v", err)
		}
		if q.Type != p.Type || q.ClientIP != p.ClientIP || string(q.Body) != string(p.Body) || len(q.Headers) != len(p.Headers) {
			t.Fatalf("round trip changed %+v into %+v", p, q)
		}
	})
}

// FuzzDispatch: any request type and body on a set-up connection gets an
// answer with a type and a JSON body, never a panic.
func FuzzDispatch(f *testing.F) {
	for _, s := range []struct{ typ, body string }{
		{typeInstance, `{"type":"registerInstance","serviceName":"s","instance":{"ip":"10.0.0.1","port":1}}`},
		{typeInstance, `{"type":"deregisterInstance","serviceName":"s","instance":null}`},
		{typeBatchInstance, `{"type":"batchRegisterInstance","serviceName":"s","instances":[null,{"ip":"::1","port":-1}]}`},
		{typeSubscribe, `{"serviceName":"s","subscribe":true,"clusters":",,a"}`},
		{typeServiceQuery, `{"serviceName":"s","healthyOnly":true,"cluster":"x"}`},
		{typeServiceList, `{"pageNo":-9223372036854775808,"pageSize":9223372036854775807}`},
		{typePersistentInstance, `{"type":"registerInstance","serviceName":"p@@q","instance":{"ip":"1.2.3.4","weight":1e400}}`},
		{typeServerCheck, `[]`},
		{"", ``},
	} {
		f.Add(s.typ, []byte(s.body))
	}
	cat := naming.NewCatalog()
	srv, err := New(DefaultConfig(), cat, &testWriter{cat: cat}, &testStatus{}, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	c := newConn("fuzz", "127.0.0.1:1", time.Now(), func() {})
	c.setup = true
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		out, code := srv.dispatch(context.Background(), c, &Payload{Type: typ, Body: body})
		if out == nil || out.Type == "" || !json.Valid(out.Body) || code == 0 {
			t.Fatalf("answer to %s %q: %+v (code %d)", typ, body, out, code)
		}
	})
}
