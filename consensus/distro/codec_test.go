package distro

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"testing"

	"sextant/naming"
)

// exportedFields lists the exported fields of a struct type.
func exportedFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			out = append(out, f.Name)
		}
	}
	return out
}

// TestCompactCoversTheModel fails when naming.Instance or naming.Op gains
// or loses a field: the compact encoding must then be extended to carry
// it, or it would silently drop data that JSON carries.
func TestCompactCoversTheModel(t *testing.T) {
	inst := []string{"IP", "Port", "Cluster", "Weight", "Healthy", "Enabled", "Ephemeral", "Metadata", "ID", "Updated", "Check"}
	if got := exportedFields(reflect.TypeFor[naming.Instance]()); !slices.Equal(got, inst) {
		t.Errorf("naming.Instance has fields %v; the compact encoding carries %v", got, inst)
	}
	if got := exportedFields(reflect.TypeFor[naming.CheckResult]()); !slices.Equal(got, []string{"Time", "Reason"}) {
		t.Errorf("naming.CheckResult has fields %v", got)
	}
	if got := exportedFields(reflect.TypeFor[naming.InstancePatch]()); !slices.Equal(got, []string{"Weight", "Enabled", "Healthy", "Metadata"}) {
		t.Errorf("naming.InstancePatch has fields %v", got)
	}
	// Op: the fields an instance op uses travel; the others belong to
	// other kinds, which never travel in the compact encoding.
	carried := []string{"Kind", "Time", "Service", "Ephemeral", "Instance", "Target", "Patch", "Healthy", "Check", "ExpectBeat"}
	others := []string{"Instances", "Removed", "Meta", "Cluster", "Namespace", "SwitchEntry", "SwitchValue", "User", "Role", "Permission"}
	got := exportedFields(reflect.TypeFor[naming.Op]())
	slices.Sort(got)
	want := append(slices.Clone(carried), others...)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("naming.Op has fields %v; the compact encoding knows %v", got, want)
	}
}

func randomInstance(rng *rand.Rand) *naming.Instance {
	in := &naming.Instance{IP: fmt.Sprintf("10.%d.%d.%d", rng.Intn(256), rng.Intn(256), rng.Intn(256)), Port: rng.Intn(65536),
		Cluster: []string{"DEFAULT", "c-1"}[rng.Intn(2)], Weight: rng.Float64() * 100, Healthy: rng.Intn(2) == 0,
		Enabled: rng.Intn(2) == 0, Ephemeral: rng.Intn(2) == 0, ID: fmt.Sprint(rng.Int63()), Updated: rng.Int63() - rng.Int63(),
		Check: naming.CheckResult{Time: rng.Int63n(1 << 40), Reason: []string{"", "HTTP 500", "ünïcode ✓"}[rng.Intn(3)]}}
	switch rng.Intn(3) {
	case 1:
		in.Metadata = map[string]string{}
	case 2:
		in.Metadata = map[string]string{"zone": "a", "k\x00": "v\"", "": fmt.Sprint(rng.Int())}
	}
	return in
}

func randomOp(rng *rand.Rand) naming.Op {
	kinds := []naming.OpKind{naming.OpRegister, naming.OpDeregister, naming.OpUpdateInstance, naming.OpBeat, naming.OpSetHealth}
	op := naming.Op{Kind: kinds[rng.Intn(len(kinds))], Time: rng.Int63(), Service: naming.NewServiceKey(fmt.Sprint("ns", rng.Intn(3)), "g", "s"),
		Ephemeral: rng.Intn(2) == 0, Healthy: rng.Intn(2) == 0, ExpectBeat: rng.Int63n(1000),
		Target: naming.InstanceKey{IP: "10.0.0.1", Port: rng.Intn(100), Cluster: "DEFAULT"}}
	if rng.Intn(2) == 0 {
		op.Instance = randomInstance(rng)
	}
	if rng.Intn(2) == 0 {
		p := &naming.InstancePatch{}
		if rng.Intn(2) == 0 {
			w := rng.Float64()
			p.Weight = &w
		}
		if rng.Intn(2) == 0 {
			b := rng.Intn(2) == 0
			p.Enabled = &b
		}
		if rng.Intn(2) == 0 {
			b := rng.Intn(2) == 0
			p.Healthy = &b
		}
		if rng.Intn(2) == 0 {
			p.Metadata = map[string]string{"a": "b"}
		}
		op.Patch = p
	}
	if rng.Intn(2) == 0 {
		op.Check = &naming.CheckResult{Time: rng.Int63(), Reason: "r"}
	}
	return op
}

func randomWireRecord(rng *rand.Rand) Record {
	r := Record{Key: naming.NewServiceKey("", "", fmt.Sprint("svc", rng.Intn(9)))}
	for range rng.Intn(4) {
		r.Instances = append(r.Instances, randomInstance(rng))
	}
	for range rng.Intn(3) {
		r.Tombstones = append(r.Tombstones, Tombstone{Instance: naming.InstanceKey{IP: "10.0.0.2", Port: rng.Intn(9), Cluster: "DEFAULT"}, Time: rng.Int63()})
	}
	for range rng.Intn(3) {
		r.Beats = append(r.Beats, BeatMark{Instance: naming.InstanceKey{IP: "10.0.0.3", Port: rng.Intn(9), Cluster: "DEFAULT"}, Time: rng.Int63()})
	}
	return r
}

func TestCompactRoundTrips(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for i := range 300 {
		ops := make([]naming.Op, rng.Intn(5))
		for j := range ops {
			ops[j] = randomOp(rng)
		}
		b, err := appendOps(nil, ops)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeOps(b)
		if err != nil || !reflect.DeepEqual(got, ops) {
			t.Fatalf("#%d ops: %v\n got  %+v\n want %+v", i, err, got, ops)
		}
		recs := make([]Record, rng.Intn(4))
		for j := range recs {
			recs[j] = randomWireRecord(rng)
		}
		back, err := decodeRecords(appendRecords(nil, recs))
		if err != nil || !reflect.DeepEqual(back, recs) {
			t.Fatalf("#%d records: %v\n got  %+v\n want %+v", i, err, back, recs)
		}
	}
	errs := []error{nil, naming.Errorf(naming.ErrNotFound, "gone"), &loadingError{msg: "busy"}, nil, naming.Errorf(naming.ErrTooLarge, "big")}
	got, err := decodeResults(appendResults(nil, errs))
	if err != nil || len(got) != len(errs) {
		t.Fatalf("results: %v %v", got, err)
	}
	for i, want := range []error{nil, naming.ErrNotFound, ErrLoading, nil, naming.ErrTooLarge} {
		if (want == nil) != (got[i] == nil) || want != nil && !errors.Is(got[i], want) {
			t.Fatalf("result %d: %v, want %v", i, got[i], want)
		}
	}
	if _, err := appendOps(nil, []naming.Op{{Kind: naming.OpCreateService}}); err == nil {
		t.Fatal("a service op was given a compact encoding")
	}
}

// TestCompactRefusesBadBodies: every truncation and random corruption of a
// valid body is refused or decodes without panicking, and counts larger
// than the body are refused before anything is allocated for them.
func TestCompactRefusesBadBodies(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	ops := []naming.Op{randomOp(rng), randomOp(rng)}
	ob, _ := appendOps(nil, ops)
	rb := appendRecords(nil, []Record{randomWireRecord(rng), randomWireRecord(rng)})
	resb := appendResults(nil, []error{nil, naming.Errorf(naming.ErrInvalid, "x")})
	for name, c := range map[string]struct {
		body   []byte
		decode func([]byte) error
	}{
		"ops":     {ob, func(b []byte) error { _, err := decodeOps(b); return err }},
		"records": {rb, func(b []byte) error { _, err := decodeRecords(b); return err }},
		"results": {resb, func(b []byte) error { _, err := decodeResults(b); return err }},
	} {
		for n := range len(c.body) {
			if c.decode(c.body[:n]) == nil {
				t.Fatalf("%s: truncated at %d of %d bytes accepted", name, n, len(c.body))
			}
		}
		if c.decode(append(slices.Clone(c.body), 0)) == nil {
			t.Fatalf("%s: trailing byte accepted", name)
		}
		bad := slices.Clone(c.body)
		bad[0] = 9
		if c.decode(bad) == nil {
			t.Fatalf("%s: unknown version accepted", name)
		}
		for range 2000 {
			bad := slices.Clone(c.body)
			bad[rng.Intn(len(bad))] = byte(rng.Intn(256))
			_ = c.decode(bad)
		}
		huge := []byte{compactVersion, 0xff, 0xff, 0xff, 0xff, 0x0f}
		if c.decode(huge) == nil {
			t.Fatalf("%s: a count past the body accepted", name)
		}
	}
}

func BenchmarkCodecForward(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	ops := make([]naming.Op, 16)
	for i := range ops {
		ops[i] = registerOp(svc("bench"), fmt.Sprintf("10.1.0.%d", i), 80)
		ops[i].Instance.Metadata = map[string]string{"zone": "a", "version": fmt.Sprint(rng.Intn(9))}
	}
	b.Run("compact", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			body, _ := appendOps(nil, ops)
			if _, err := decodeOps(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := viaJSON(forwardBody{Ops: ops}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A record made of the catalog's instances, which keep no ID, carries
// each instance's ID in the compact and the JSON encoding, as records
// always have: what a member of the previous version reads.
func TestRecordsCarryInstanceIDs(t *testing.T) {
	cat := naming.NewCatalog()
	key := naming.NewServiceKey("", "G", "svc")
	for _, ip := range []string{"10.0.0.2", "10.0.0.1"} {
		if err := cat.Apply(naming.Op{Kind: naming.OpRegister, Time: 1, Service: key, Ephemeral: true, Instance: &naming.Instance{
			IP: ip, Port: 80, Cluster: naming.DefaultCluster, Weight: 1, Healthy: true, Enabled: true, Ephemeral: true}}); err != nil {
			t.Fatal(err)
		}
	}
	svc, _ := cat.Service(key)
	rec := Record{Key: key, Instances: svc.Instances}
	want := []string{"10.0.0.1#80#DEFAULT#G@@svc", "10.0.0.2#80#DEFAULT#G@@svc"}
	back, err := decodeRecords(appendRecords(nil, []Record{rec}))
	if err != nil || len(back) != 1 || len(back[0].Instances) != 2 {
		t.Fatalf("compact: %v %+v", err, back)
	}
	var fromJSON Record
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fromJSON); err != nil || len(fromJSON.Instances) != 2 {
		t.Fatalf("json: %v %s", err, b)
	}
	for i, id := range want {
		if got := back[0].Instances[i].ID; got != id {
			t.Errorf("compact: instance %d carries ID %q, want %q", i, got, id)
		}
		if got := fromJSON.Instances[i].ID; got != id {
			t.Errorf("json: instance %d carries ID %q, want %q", i, got, id)
		}
		if svc.Instances[i].ID != "" {
			t.Errorf("encoding wrote into the catalog's instance %d", i)
		}
	}
}
