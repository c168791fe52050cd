package raftcp

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"sextant/naming"
)

// A fast reader of the JSON that encoding/json writes for the ops of
// persistent instances (register, deregister, update health): the bulk of
// log entries and forwarded writes. It reads exactly what encoding/json
// would read into naming.Op, or gives up (ok false) on anything outside
// that shape: a key it does not know or sees twice, a key spelled other
// than the field's own tag, an escape in a string, null where a value is
// expected, a number that is not an exact integer where one is expected,
// or anything after the value but white space. Callers then decode with
// encoding/json, so the result, and any error, is always encoding/json's.

// DecodeOpsFast decodes a JSON array of ops; ok is false when the caller
// must use encoding/json instead (which then gives the same ops or an
// error).
func DecodeOpsFast(data []byte) (ops []naming.Op, ok bool) {
	r := opReader{b: data}
	if !r.eat('[') {
		return nil, false
	}
	// Ops are large: size the slice once (a hint: an op written by
	// encoding/json starts with its kind).
	ops = make([]naming.Op, 0, max(1, bytes.Count(data, []byte(`{"kind":`))))
	if !r.eat(']') {
		for {
			ops = append(ops, naming.Op{})
			if !r.op(&ops[len(ops)-1]) {
				return nil, false
			}
			if r.eat(',') {
				continue
			}
			if !r.eat(']') {
				return nil, false
			}
			break
		}
	}
	if !r.end() {
		return nil, false
	}
	return ops, true
}

// DecodeOpFast decodes one JSON op; ok is false when the caller must use
// encoding/json instead.
func DecodeOpFast(data []byte) (op naming.Op, ok bool) {
	r := opReader{b: data}
	if !r.op(&op) || !r.end() {
		return naming.Op{}, false
	}
	return op, true
}

type opReader struct {
	b []byte
	i int
	// names holds the first namespaces, groups and clusters read.
	names  [6]string
	nnames int
}

func (r *opReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// eat consumes c (after white space) when it comes next.
func (r *opReader) eat(c byte) bool {
	r.ws()
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

func (r *opReader) end() bool {
	r.ws()
	return r.i == len(r.b)
}

// lit consumes the literal s (true, false, null).
func (r *opReader) lit(s string) bool {
	r.ws()
	if len(r.b)-r.i >= len(s) && string(r.b[r.i:r.i+len(s)]) == s {
		r.i += len(s)
		return true
	}
	return false
}

// raw reads a string with no escapes and returns its bytes. Control
// characters and invalid UTF-8 (which encoding/json would replace) fail.
func (r *opReader) raw() ([]byte, bool) {
	if !r.eat('"') {
		return nil, false
	}
	start := r.i
	ascii := true
	for ; r.i < len(r.b); r.i++ {
		c := r.b[r.i]
		switch {
		case c == '"':
			s := r.b[start:r.i]
			r.i++
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

func (r *opReader) str(dst *string) bool {
	s, ok := r.raw()
	if ok {
		*dst = string(s)
	}
	return ok
}

// name reads a string that repeats across the ops of an entry (namespace,
// group, cluster): the few distinct values are allocated once per entry.
func (r *opReader) name(dst *string) bool {
	b, ok := r.raw()
	if !ok {
		return false
	}
	for _, v := range r.names[:r.nnames] {
		if v == string(b) {
			*dst = v
			return true
		}
	}
	v := string(b)
	if r.nnames < len(r.names) {
		r.names[r.nnames] = v
		r.nnames++
	}
	*dst = v
	return true
}

func (r *opReader) boolean(dst *bool) bool {
	switch {
	case r.lit("true"):
		*dst = true
	case r.lit("false"):
		*dst = false
	default:
		return false
	}
	return true
}

// number reads a JSON number; integer reports whether it has neither a
// fraction nor an exponent.
func (r *opReader) number() (s []byte, integer bool) {
	r.ws()
	start := r.i
	digits := func() int {
		n := 0
		for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
			r.i++
			n++
		}
		return n
	}
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	first := r.i
	n := digits()
	if n == 0 || (n > 1 && r.b[first] == '0') {
		return nil, false
	}
	integer = true
	if r.i < len(r.b) && r.b[r.i] == '.' {
		r.i++
		if digits() == 0 {
			return nil, false
		}
		integer = false
	}
	if r.i < len(r.b) && (r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		r.i++
		if r.i < len(r.b) && (r.b[r.i] == '+' || r.b[r.i] == '-') {
			r.i++
		}
		if digits() == 0 {
			return nil, false
		}
		integer = false
	}
	return r.b[start:r.i], true
}

func (r *opReader) int64(dst *int64) bool {
	s, integer := r.number()
	if s == nil || !integer {
		return false
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		return false
	}
	*dst = v
	return true
}

func (r *opReader) int(dst *int) bool {
	var v int64
	if !r.int64(&v) || int64(int(v)) != v {
		return false
	}
	*dst = int(v)
	return true
}

func (r *opReader) float(dst *float64) bool {
	s, _ := r.number()
	if s == nil {
		return false
	}
	v, err := strconv.ParseFloat(string(s), 64)
	if err != nil {
		return false
	}
	*dst = v
	return true
}

// object reads an object, calling field for each key with the reader
// placed before the value; field reads the value. A key seen twice fails:
// encoding/json would merge or overwrite, which is not worth copying.
func (r *opReader) object(field func(key []byte) bool) bool {
	if !r.eat('{') {
		return false
	}
	if r.eat('}') {
		return true
	}
	for {
		k, ok := r.raw()
		if !ok || !r.eat(':') || !field(k) {
			return false
		}
		if r.eat(',') {
			continue
		}
		return r.eat('}')
	}
}

// fields tracks the keys of one object already seen.
type fields uint32

func (f *fields) first(bit uint) bool {
	if *f&(1<<bit) != 0 {
		return false
	}
	*f |= 1 << bit
	return true
}

func (r *opReader) op(op *naming.Op) bool {
	var seen fields
	return r.object(func(k []byte) bool {
		switch string(k) {
		case "kind":
			var v int64
			if !seen.first(0) || !r.int64(&v) || v < 0 || v > 255 {
				return false
			}
			op.Kind = naming.OpKind(v)
			return true
		case "time":
			return seen.first(1) && r.int64(&op.Time)
		case "service":
			return seen.first(2) && r.serviceKey(&op.Service)
		case "ephemeral":
			return seen.first(3) && r.boolean(&op.Ephemeral)
		case "instance":
			if !seen.first(4) {
				return false
			}
			op.Instance = new(naming.Instance)
			return r.instance(op.Instance)
		case "target":
			return seen.first(5) && r.instanceKey(&op.Target)
		case "healthy":
			return seen.first(6) && r.boolean(&op.Healthy)
		case "check":
			if !seen.first(7) {
				return false
			}
			op.Check = new(naming.CheckResult)
			return r.check(op.Check)
		case "expectBeat":
			return seen.first(8) && r.int64(&op.ExpectBeat)
		}
		return false
	})
}

func (r *opReader) serviceKey(k *naming.ServiceKey) bool {
	var seen fields
	return r.object(func(key []byte) bool {
		switch string(key) {
		case "Namespace":
			return seen.first(0) && r.name(&k.Namespace)
		case "Group":
			return seen.first(1) && r.name(&k.Group)
		case "Name":
			return seen.first(2) && r.str(&k.Name)
		}
		return false
	})
}

func (r *opReader) instanceKey(k *naming.InstanceKey) bool {
	var seen fields
	return r.object(func(key []byte) bool {
		switch string(key) {
		case "IP":
			return seen.first(0) && r.str(&k.IP)
		case "Port":
			return seen.first(1) && r.int(&k.Port)
		case "Cluster":
			return seen.first(2) && r.name(&k.Cluster)
		}
		return false
	})
}

func (r *opReader) check(c *naming.CheckResult) bool {
	var seen fields
	return r.object(func(key []byte) bool {
		switch string(key) {
		case "time":
			return seen.first(0) && r.int64(&c.Time)
		case "reason":
			return seen.first(1) && r.str(&c.Reason)
		}
		return false
	})
}

func (r *opReader) instance(in *naming.Instance) bool {
	var seen fields
	return r.object(func(key []byte) bool {
		switch string(key) {
		case "ip":
			return seen.first(0) && r.str(&in.IP)
		case "port":
			return seen.first(1) && r.int(&in.Port)
		case "clusterName":
			return seen.first(2) && r.name(&in.Cluster)
		case "weight":
			return seen.first(3) && r.float(&in.Weight)
		case "healthy":
			return seen.first(4) && r.boolean(&in.Healthy)
		case "enabled":
			return seen.first(5) && r.boolean(&in.Enabled)
		case "ephemeral":
			return seen.first(6) && r.boolean(&in.Ephemeral)
		case "metadata":
			return seen.first(7) && r.metadata(&in.Metadata)
		case "instanceId":
			return seen.first(8) && r.str(&in.ID)
		case "updated":
			return seen.first(9) && r.int64(&in.Updated)
		case "check":
			return seen.first(10) && r.check(&in.Check)
		}
		return false
	})
}

// metadata reads null (no map) or an object of strings; a repeated key
// keeps its last value, as encoding/json does for maps.
func (r *opReader) metadata(dst *map[string]string) bool {
	if r.lit("null") {
		*dst = nil
		return true
	}
	m := map[string]string{}
	ok := r.object(func(key []byte) bool {
		v, ok := r.raw()
		if ok {
			m[string(key)] = string(v)
		}
		return ok
	})
	if ok {
		*dst = m
	}
	return ok
}
