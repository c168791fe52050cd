package distro

import (
	"encoding/binary"
	"errors"
	"math"

	"sextant/naming"
)

// encoder and decoder read and write the fields of the compact encoding
// (codec.go): varints, length-prefixed strings and maps, keys and instances.
// A decoder stops at the first malformed field and keeps errCompact.

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

// instance encodes in. An op's instance carries the ID it came with; a
// record's (svc set), whose instances come from the catalog that keeps no
// IDs, carries the one its key and service give, as it always has.
func (e *encoder) instance(in *naming.Instance, svc *naming.ServiceKey) {
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
	if svc != nil && in.ID == "" {
		var buf [128]byte
		id := in.Key().AppendID(buf[:0], *svc)
		e.uvarint(uint64(len(id)))
		e.b = append(e.b, id...)
	} else {
		e.str(in.ID)
	}
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
