package raftcp

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"sextant/naming"
)

// randomOp returns an op of the shapes the fast reader handles, and some
// it leaves to encoding/json, with varied values.
func randomOp(rng *rand.Rand) naming.Op {
	strs := []string{"", "a", "DEFAULT", "127.1.2.3", "pst-16-01", "é", "日本", "with space"}
	escaped := []string{"q\"uote", "back\\slash", "tab\t", "<&>", "\u2028"} // encoding/json escapes these
	s := func() string {
		if rng.IntN(40) == 0 {
			return escaped[rng.IntN(len(escaped))]
		}
		return strs[rng.IntN(len(strs))]
	}
	ints := []int64{0, 1, -1, 9000, 65535, 1700000000000, math.MaxInt64, math.MinInt64}
	n := func() int64 { return ints[rng.IntN(len(ints))] }
	floats := []float64{0, 1, 0.5, 100, 1e-7, 1e21, 123456.789, -2, math.SmallestNonzeroFloat64, math.MaxFloat64}
	op := naming.Op{Kind: naming.OpKind(rng.IntN(30)), Time: n(), Service: naming.ServiceKey{Namespace: s(), Group: s(), Name: s()},
		Ephemeral: rng.IntN(2) == 0, Healthy: rng.IntN(2) == 0, ExpectBeat: n()}
	if rng.IntN(2) == 0 {
		in := &naming.Instance{IP: s(), Port: int(n()), Cluster: s(), Weight: floats[rng.IntN(len(floats))],
			Healthy: rng.IntN(2) == 0, Enabled: rng.IntN(2) == 0, Ephemeral: rng.IntN(2) == 0, ID: s(), Updated: n(),
			Check: naming.CheckResult{Time: n(), Reason: s()}}
		switch rng.IntN(3) {
		case 1:
			in.Metadata = map[string]string{}
		case 2:
			in.Metadata = map[string]string{s(): s(), s(): s()}
		}
		op.Instance = in
	}
	if rng.IntN(2) == 0 {
		op.Target = naming.InstanceKey{IP: s(), Port: int(n()), Cluster: s()}
	}
	if rng.IntN(2) == 0 {
		op.Check = &naming.CheckResult{Time: n(), Reason: s()}
	}
	switch rng.IntN(8) { // fields only encoding/json reads
	case 0:
		op.Namespace = &naming.Namespace{ID: s()}
	case 1:
		op.SwitchEntry, op.SwitchValue = s(), s()
	case 2:
		op.Removed = []naming.InstanceKey{{IP: s()}}
	}
	return op
}

// TestDecodeOpsFastMatchesEncodingJSON checks that whenever the fast reader
// accepts an entry, encoding/json reads the same ops from it, and that it
// accepts what this package writes for instance ops.
func TestDecodeOpsFastMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	for i := 0; i < 3000; i++ {
		ops := make([]naming.Op, 1+rng.IntN(4))
		for j := range ops {
			ops[j] = randomOp(rng)
		}
		data, err := json.Marshal(ops)
		if err != nil {
			t.Fatal(err)
		}
		if checkFastOps(t, data) {
			accepted++
		}
		one, _ := json.Marshal(ops[0])
		checkFastOp(t, one)
	}
	if accepted < 100 {
		t.Fatalf("fast reader accepted only %d of 3000 entries", accepted)
	}
	// What the write path sends for persistent instances is always read fast.
	reg := naming.Op{Kind: naming.OpRegister, Time: 1700000000000, Service: naming.NewServiceKey("", "", "pst-16-01"),
		Instance: &naming.Instance{IP: "127.1.2.3", Port: 9000, Cluster: "DEFAULT", Weight: 1, Healthy: true, Enabled: true,
			Metadata: map[string]string{"k": "v"}}}
	flip := naming.Op{Kind: naming.OpSetHealth, Time: 5, Service: reg.Service, Target: reg.Instance.Key(),
		Check: &naming.CheckResult{Time: 5, Reason: "connection refused"}}
	dereg := naming.Op{Kind: naming.OpDeregister, Time: 6, Service: reg.Service, Target: reg.Instance.Key()}
	data, _ := json.Marshal([]naming.Op{reg, flip, dereg})
	if !checkFastOps(t, data) {
		t.Fatalf("fast reader refused %s", data)
	}
}

// TestDecodeOpsFastDefers lists inputs the fast reader must leave to
// encoding/json.
func TestDecodeOpsFastDefers(t *testing.T) {
	for _, in := range []string{
		``, `null`, `{}`, `[`, `[]x`, `[{"kind":1}`, `[{"kind":1},]`,
		`[{"Kind":1}]`,                    // another spelling of the key
		`[{"kind":1,"kind":2}]`,           // repeated key
		`[{"kind":256}]`, `[{"kind":-1}]`, // not an OpKind
		`[{"kind":1.0}]`, `[{"time":1e3}]`, `[{"time":01}]`, `[{"time":9223372036854775808}]`,
		`[{"service":{"Name":"a\"b"}}]`, // escape
		`[{"service":{"Name":"` + "\xff" + `"}}]`,
		`[{"instance":null}]`, `[{"check":null}]`, `[{"healthy":null}]`, `[{"healthy":1}]`,
		`[{"instance":{"weight":1e400}}]`, `[{"instance":{"metadata":{"a":1}}}]`,
		`[{"namespace":{"namespace":"x"}}]`, // a field it does not read
		`[{"kind":1}] [`,
	} {
		if ops, ok := DecodeOpsFast([]byte(in)); ok {
			t.Errorf("%q: fast reader accepted it: %+v", in, ops)
		}
	}
	// White space anywhere and an empty array are fine.
	for _, in := range []string{` [ ] `, "[ {\n\"kind\" : 1 ,\t\"time\":-0 } ]\r\n", `[{"instance":{"metadata":{"a":"1","a":"2"}}}]`} {
		if !checkFastOps(t, []byte(in)) {
			t.Errorf("%q: refused", in)
		}
	}
}

// checkFastOps fails the test when the fast reader accepts data but
// encoding/json reads something else (or nothing); it returns whether the
// fast reader accepted data.
func checkFastOps(t testing.TB, data []byte) bool {
	t.Helper()
	got, ok := DecodeOpsFast(data)
	if !ok {
		return false
	}
	var want []naming.Op
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("fast reader accepted %s, encoding/json: %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\nfast %s\njson %s", data, dump(got), dump(want))
	}
	return true
}

func checkFastOp(t testing.TB, data []byte) {
	t.Helper()
	got, ok := DecodeOpFast(data)
	if !ok {
		return
	}
	var want naming.Op
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("fast reader accepted %s, encoding/json: %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\nfast %s\njson %s", data, dump([]naming.Op{got}), dump([]naming.Op{want}))
	}
}

func dump(ops []naming.Op) string {
	var b strings.Builder
	for _, op := range ops {
		fmt.Fprintf(&b, "%+v", op)
		if op.Instance != nil {
			fmt.Fprintf(&b, " instance %+v", *op.Instance)
		}
		if op.Check != nil {
			fmt.Fprintf(&b, " check %+v", *op.Check)
		}
		b.WriteString("; ")
	}
	return b.String()
}

// FuzzDecodeOpsFast: on any input the fast reader either defers or reads
// what encoding/json reads.
func FuzzDecodeOpsFast(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20; i++ {
		data, _ := json.Marshal([]naming.Op{randomOp(rng)})
		f.Add(data)
	}
	f.Add([]byte(`[{"kind":1,"instance":{"metadata":{}}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastOps(t, data)
		checkFastOp(t, data)
	})
}

// BenchmarkDecodeEntry decodes an entry of 32 persistent registrations.
func BenchmarkDecodeEntry(b *testing.B) {
	ops := make([]naming.Op, 32)
	for i := range ops {
		ops[i] = naming.Op{Kind: naming.OpRegister, Time: 1700000000000 + int64(i), Service: naming.NewServiceKey("", "", fmt.Sprintf("pst-16-%02d", i%20)),
			Instance: &naming.Instance{IP: fmt.Sprintf("127.1.2.%d", i), Port: 9000, Cluster: "DEFAULT", Weight: 1, Healthy: true, Enabled: true}}
	}
	data, err := encodeEntry(ops)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeEntry(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var out []naming.Op
			if err := json.Unmarshal(data[1:], &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestEncodeOpsIsEncodingJSON checks EncodeOps and EncodeOp against
// json.Marshal, byte for byte, on random ops, on the special floats and on
// strings encoding/json escapes.
func TestEncodeOpsIsEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	fast := 0
	for i := 0; i < 3000; i++ {
		ops := make([]naming.Op, rng.IntN(4))
		for j := range ops {
			ops[j] = randomOp(rng)
			if _, ok := appendOpFast(nil, &ops[j]); ok {
				fast++
			}
		}
		if i%10 == 0 {
			ops = nil
		}
		sameAsJSON(t, ops)
	}
	if fast < 1000 {
		t.Fatalf("only %d ops written by the fast path", fast)
	}
	in := &naming.Instance{IP: "1.2.3.4", Port: 1, Cluster: "c"}
	for _, w := range []float64{0, -0.0, 1e-6, 9.99e-7, 1e-7, 1.5e-10, 1e20, 1e21, 1.2345e25, -3e-9, 0.1, 100, 1e300, math.Inf(1), math.NaN()} {
		in.Weight = w
		sameAsJSON(t, []naming.Op{{Kind: naming.OpRegister, Instance: in}})
	}
	for _, s := range []string{"<", ">", "&", "\"", "\\", "\x00", "\x1f", "\x7f", "é", "\xff", "\u2028", "a b"} {
		sameAsJSON(t, []naming.Op{{Kind: naming.OpSetHealth, Service: naming.ServiceKey{Name: s}, Check: &naming.CheckResult{Reason: s}}})
		sameAsJSON(t, []naming.Op{{Kind: naming.OpRegister, Instance: &naming.Instance{Metadata: map[string]string{s: s, "b": "c"}}}})
	}
}

func sameAsJSON(t *testing.T, ops []naming.Op) {
	t.Helper()
	want, werr := json.Marshal(ops)
	got, gerr := EncodeOps(ops)
	if (werr == nil) != (gerr == nil) || string(got) != string(want) {
		t.Fatalf("EncodeOps:\n%s (%v)\nencoding/json:\n%s (%v)", got, gerr, want, werr)
	}
	for _, op := range ops {
		want, werr := json.Marshal(op)
		got, gerr := EncodeOp(op)
		if (werr == nil) != (gerr == nil) || string(got) != string(want) {
			t.Fatalf("EncodeOp:\n%s (%v)\nencoding/json:\n%s (%v)", got, gerr, want, werr)
		}
	}
}

// BenchmarkEncodeEntry encodes an entry of 32 persistent registrations.
func BenchmarkEncodeEntry(b *testing.B) {
	ops := make([]naming.Op, 32)
	for i := range ops {
		ops[i] = naming.Op{Kind: naming.OpRegister, Time: 1700000000000 + int64(i), Service: naming.NewServiceKey("", "", fmt.Sprintf("pst-16-%02d", i%20)),
			Instance: &naming.Instance{IP: fmt.Sprintf("127.1.2.%d", i), Port: 9000, Cluster: "DEFAULT", Weight: 1, Healthy: true, Enabled: true}}
	}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeEntry(ops); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(ops); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestOpJSONKnowsEveryField fails when a field is added to naming.Op or to
// a type it writes by hand: EncodeOps would silently leave the new field
// out of the log. Teach appendOpFast (and the reader) the field, then add
// it here.
func TestOpJSONKnowsEveryField(t *testing.T) {
	for _, c := range []struct {
		typ  reflect.Type
		want string
	}{
		{reflect.TypeFor[naming.Op](), "Kind Time Service Ephemeral Instance Instances Target Patch Healthy Check ExpectBeat Removed Meta Cluster Namespace SwitchEntry SwitchValue User Role Permission"},
		{reflect.TypeFor[naming.Instance](), "IP Port Cluster Weight Healthy Enabled Ephemeral Metadata ID Updated Check beat owned"},
		{reflect.TypeFor[naming.CheckResult](), "Time Reason"},
		{reflect.TypeFor[naming.ServiceKey](), "Namespace Group Name"},
		{reflect.TypeFor[naming.InstanceKey](), "IP Port Cluster"},
	} {
		var names []string
		for i := 0; i < c.typ.NumField(); i++ {
			names = append(names, c.typ.Field(i).Name)
		}
		if got := strings.Join(names, " "); got != c.want {
			t.Errorf("%s has fields %q; opjson.go and opjson_encode.go know %q", c.typ, got, c.want)
		}
	}
}
