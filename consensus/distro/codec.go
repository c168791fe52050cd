package distro

import (
	"errors"
	"fmt"

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
			e.instance(op.Instance, nil)
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
			e.instance(in, &r.Key)
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
