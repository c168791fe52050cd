package distro

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"sextant/naming"
)

// The compact encoding of the two hot messages, forwarded writes and sync
// records, with their answers. JSON costs more CPU than applying the
// writes it carries; this encoding is a version byte followed by
// length-prefixed fields (unsigned varints for lengths and counts, signed
// varints for times, IEEE bits for weights). It carries every exported
// field of naming.Instance and every field of an instance op, so a message
// means the same in either encoding; encoding_test.go fails if either
// struct gains a field.

// CompactType is the Content-Type of compact bodies. Handlers accept it and
// JSON; they answer in the encoding of the request.
const CompactType = "application/x-sextant-distro"

// compactVersion is the first byte of every compact body but sync
// records, which start with recordsVersion: version 2 adds beat marks
// after the tombstones of each record. Records of version 1 are still read.
const (
	compactVersion = 1
	recordsVersion = 2
)

var errCompact = errors.New("distro: malformed compact body")

// errUnknownVersion is the message of a compact body whose version byte
// the reader does not know; every version so far says it alike, so a
// sender can tell an older peer by it.
const errUnknownVersion = "distro: compact body of an unknown version"

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) byte(v byte)      { e.b = append(e.b, v) }

func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) float(f float64) { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f)) }

func (e *encoder) bool(v bool) {
	if v {
		e.byte(1)
	} else {
		e.byte(0)
	}
}

// strMap writes a presence byte (nil and empty maps differ), the count and
// the pairs.
func (e *encoder) strMap(m map[string]string) {
	if m == nil {
		e.byte(0)
		return
	}
	e.byte(1)
	e.uvarint(uint64(len(m)))
	for k, v := range m {
		e.str(k)
		e.str(v)
	}
}

func (e *encoder) serviceKey(k naming.ServiceKey) {
	e.str(k.Namespace)
	e.str(k.Group)
	e.str(k.Name)
}

func (e *encoder) instanceKey(k naming.InstanceKey) {
	e.str(k.IP)
	e.uvarint(uint64(k.Port))
	e.str(k.Cluster)
}

func (e *encoder) instance(in *naming.Instance) {
	e.str(in.IP)
	e.uvarint(uint64(in.Port))
	e.str(in.Cluster)
	e.float(in.Weight)
	var flags byte
	if in.Healthy {
		flags |= 1
	}
	if in.Enabled {
		flags |= 2
	}
	if in.Ephemeral {
		flags |= 4
	}
	e.byte(flags)
	e.strMap(in.Metadata)
	e.str(in.ID)
	e.varint(in.Updated)
	e.varint(in.Check.Time)
	e.str(in.Check.Reason)
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCompact
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) bool() bool { return d.byte() != 0 }

// count reads a count of items each at least min bytes long, refusing
// counts the rest of the body cannot hold.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/min) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) float() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *decoder) int() int {
	v := d.uvarint()
	if v > math.MaxInt32 {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *decoder) strMap() map[string]string {
	if !d.bool() {
		return nil
	}
	n := d.count(2)
	m := make(map[string]string, n)
	for range n {
		k := d.str()
		m[k] = d.str()
	}
	return m
}

func (d *decoder) serviceKey() naming.ServiceKey {
	return naming.ServiceKey{Namespace: d.str(), Group: d.str(), Name: d.str()}
}

func (d *decoder) instanceKey() naming.InstanceKey {
	return naming.InstanceKey{IP: d.str(), Port: d.int(), Cluster: d.str()}
}

func (d *decoder) instance() *naming.Instance {
	in := &naming.Instance{IP: d.str(), Port: d.int(), Cluster: d.str(), Weight: d.float()}
	flags := d.byte()
	in.Healthy, in.Enabled, in.Ephemeral = flags&1 != 0, flags&2 != 0, flags&4 != 0
	in.Metadata = d.strMap()
	in.ID = d.str()
	in.Updated = d.varint()
	in.Check.Time = d.varint()
	in.Check.Reason = d.str()
	return in
}

// begin checks the version byte against the versions accepted (by
// default compactVersion) and returns it.
func (d *decoder) begin(accept ...byte) byte {
	if len(accept) == 0 {
		accept = []byte{compactVersion}
	}
	v := d.byte()
	for _, a := range accept {
		if v == a {
			return v
		}
	}
	if d.err == nil {
		d.err = errors.New(errUnknownVersion)
	}
	return v
}

func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = errCompact
	}
	return d.err
}

// Op fields carried by the compact encoding, as presence bits.
const (
	opEphemeral = 1 << iota
	opInstance
	opPatch
	opHealthy
	opCheck
)

// appendOps encodes instance ops (the only ops a forward may carry); it
// refuses any other kind, which must travel as JSON.
func appendOps(b []byte, ops []naming.Op) ([]byte, error) {
	e := encoder{b: b}
	e.byte(compactVersion)
	e.uvarint(uint64(len(ops)))
	for i := range ops {
		op := &ops[i]
		if !op.IsInstanceOp() {
			return nil, fmt.Errorf("distro: %s has no compact encoding", op.Kind)
		}
		e.byte(byte(op.Kind))
		e.varint(op.Time)
		e.serviceKey(op.Service)
		var bits byte
		if op.Ephemeral {
			bits |= opEphemeral
		}
		if op.Instance != nil {
			bits |= opInstance
		}
		if op.Patch != nil {
			bits |= opPatch
		}
		if op.Healthy {
			bits |= opHealthy
		}
		if op.Check != nil {
			bits |= opCheck
		}
		e.byte(bits)
		if op.Instance != nil {
			e.instance(op.Instance)
		}
		e.instanceKey(op.Target)
		if p := op.Patch; p != nil {
			var pb byte
			if p.Weight != nil {
				pb |= 1
			}
			if p.Enabled != nil {
				pb |= 2
			}
			if p.Healthy != nil {
				pb |= 4
			}
			e.byte(pb)
			if p.Weight != nil {
				e.float(*p.Weight)
			}
			if p.Enabled != nil {
				e.bool(*p.Enabled)
			}
			if p.Healthy != nil {
				e.bool(*p.Healthy)
			}
			e.strMap(p.Metadata)
		}
		if op.Check != nil {
			e.varint(op.Check.Time)
			e.str(op.Check.Reason)
		}
		e.varint(op.ExpectBeat)
	}
	return e.b, nil
}

func decodeOps(b []byte) ([]naming.Op, error) {
	d := decoder{b: b}
	d.begin()
	n := d.count(8)
	ops := make([]naming.Op, n)
	for i := 0; i < n && d.err == nil; i++ {
		op := &ops[i]
		op.Kind = naming.OpKind(d.byte())
		op.Time = d.varint()
		op.Service = d.serviceKey()
		bits := d.byte()
		op.Ephemeral, op.Healthy = bits&opEphemeral != 0, bits&opHealthy != 0
		if bits&opInstance != 0 {
			op.Instance = d.instance()
		}
		op.Target = d.instanceKey()
		if bits&opPatch != 0 {
			p := &naming.InstancePatch{}
			pb := d.byte()
			if pb&1 != 0 {
				w := d.float()
				p.Weight = &w
			}
			if pb&2 != 0 {
				v := d.bool()
				p.Enabled = &v
			}
			if pb&4 != 0 {
				v := d.bool()
				p.Healthy = &v
			}
			p.Metadata = d.strMap()
			op.Patch = p
		}
		if bits&opCheck != 0 {
			op.Check = &naming.CheckResult{Time: d.varint(), Reason: d.str()}
		}
		op.ExpectBeat = d.varint()
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return ops, nil
}

func appendRecords(b []byte, recs []Record) []byte {
	e := encoder{b: b}
	e.byte(recordsVersion)
	e.uvarint(uint64(len(recs)))
	for i := range recs {
		r := &recs[i]
		e.serviceKey(r.Key)
		e.uvarint(uint64(len(r.Instances)))
		for _, in := range r.Instances {
			if in == nil { // JSON would carry null; a record never holds one
				in = &naming.Instance{}
			}
			e.instance(in)
		}
		e.uvarint(uint64(len(r.Tombstones)))
		for _, t := range r.Tombstones {
			e.instanceKey(t.Instance)
			e.varint(t.Time)
		}
		e.uvarint(uint64(len(r.Beats)))
		for _, m := range r.Beats {
			e.instanceKey(m.Instance)
			e.varint(m.Time)
		}
	}
	return e.b
}

func decodeRecords(b []byte) ([]Record, error) {
	d := decoder{b: b}
	ver := d.begin(compactVersion, recordsVersion)
	n := d.count(4)
	recs := make([]Record, n)
	for i := 0; i < n && d.err == nil; i++ {
		r := &recs[i]
		r.Key = d.serviceKey()
		if m := d.count(16); m > 0 {
			r.Instances = make([]*naming.Instance, m)
			for j := range m {
				r.Instances[j] = d.instance()
			}
		}
		if m := d.count(4); m > 0 {
			r.Tombstones = make([]Tombstone, m)
			for j := range m {
				r.Tombstones[j] = Tombstone{Instance: d.instanceKey(), Time: d.varint()}
			}
		}
		if ver < recordsVersion {
			continue
		}
		if m := d.count(4); m > 0 {
			r.Beats = make([]BeatMark, m)
			for j := range m {
				r.Beats[j] = BeatMark{Instance: d.instanceKey(), Time: d.varint()}
			}
		}
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return recs, nil
}

func appendResults(b []byte, errs []error) []byte {
	e := encoder{b: b}
	e.byte(compactVersion)
	e.uvarint(uint64(len(errs)))
	for _, err := range errs {
		if err == nil {
			e.byte(0)
			continue
		}
		_, eb := encodeError(err)
		e.byte(1)
		e.str(eb.Kind)
		e.str(eb.Message)
		e.str(eb.Code)
	}
	return e.b
}

func decodeResults(b []byte) ([]error, error) {
	d := decoder{b: b}
	d.begin()
	n := d.count(1)
	out := make([]error, n)
	for i := 0; i < n && d.err == nil; i++ {
		if d.byte() == 0 {
			continue
		}
		out[i] = decodeError(errorBody{Kind: d.str(), Message: d.str(), Code: d.str()})
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return out, nil
}
