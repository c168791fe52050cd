package raftcp

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"sextant/naming"
)

// EncodeOps returns json.Marshal(ops), byte for byte. Instance ops with
// plain strings (no byte that encoding/json escapes) are written directly;
// any other op is written by encoding/json.
func EncodeOps(ops []naming.Op) ([]byte, error) {
	return appendOps(make([]byte, 0, 64+384*len(ops)), ops)
}

func appendOps(b []byte, ops []naming.Op) ([]byte, error) {
	if ops == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i := range ops {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendOp(b, &ops[i]); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// EncodeOp returns json.Marshal(op), byte for byte.
func EncodeOp(op naming.Op) ([]byte, error) {
	return appendOp(make([]byte, 0, 384), &op)
}

func appendOp(b []byte, op *naming.Op) ([]byte, error) {
	if out, ok := appendOpFast(b, op); ok {
		return out, nil
	}
	j, err := json.Marshal(op)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// appendOpFast writes op as encoding/json would, or reports false with b
// unchanged.
func appendOpFast(b []byte, op *naming.Op) ([]byte, bool) {
	if len(op.Instances) > 0 || op.Patch != nil || len(op.Removed) > 0 || op.Meta != nil || op.Cluster != nil ||
		op.Namespace != nil || op.SwitchEntry != "" || op.SwitchValue != "" || op.User != nil || op.Role != nil ||
		op.Permission != nil {
		return b, false
	}
	if in := op.Instance; in != nil && (math.IsNaN(in.Weight) || math.IsInf(in.Weight, 0)) {
		return b, false
	}
	w := opWriter{b: b, ok: true}
	w.raw(`{"kind":`)
	w.b = strconv.AppendUint(w.b, uint64(op.Kind), 10)
	w.raw(`,"time":`)
	w.b = strconv.AppendInt(w.b, op.Time, 10)
	w.raw(`,"service":{"Namespace":`)
	w.str(op.Service.Namespace)
	w.raw(`,"Group":`)
	w.str(op.Service.Group)
	w.raw(`,"Name":`)
	w.str(op.Service.Name)
	w.raw(`}`)
	if op.Ephemeral {
		w.raw(`,"ephemeral":true`)
	}
	if in := op.Instance; in != nil {
		w.raw(`,"instance":{"ip":`)
		w.str(in.IP)
		w.raw(`,"port":`)
		w.b = strconv.AppendInt(w.b, int64(in.Port), 10)
		w.raw(`,"clusterName":`)
		w.str(in.Cluster)
		w.raw(`,"weight":`)
		w.b = appendFloat(w.b, in.Weight)
		w.raw(`,"healthy":`)
		w.bool(in.Healthy)
		w.raw(`,"enabled":`)
		w.bool(in.Enabled)
		w.raw(`,"ephemeral":`)
		w.bool(in.Ephemeral)
		w.raw(`,"metadata":`)
		if in.Metadata == nil {
			w.raw("null")
		} else {
			keys := make([]string, 0, len(in.Metadata))
			for k := range in.Metadata {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			w.raw(`{`)
			for i, k := range keys {
				if i > 0 {
					w.raw(`,`)
				}
				w.str(k)
				w.raw(`:`)
				w.str(in.Metadata[k])
			}
			w.raw(`}`)
		}
		w.raw(`,"instanceId":`)
		w.str(in.ID)
		w.raw(`,"updated":`)
		w.b = strconv.AppendInt(w.b, in.Updated, 10)
		w.raw(`,"check":`)
		w.check(&in.Check)
		w.raw(`}`)
	}
	w.raw(`,"target":{"IP":`)
	w.str(op.Target.IP)
	w.raw(`,"Port":`)
	w.b = strconv.AppendInt(w.b, int64(op.Target.Port), 10)
	w.raw(`,"Cluster":`)
	w.str(op.Target.Cluster)
	w.raw(`}`)
	if op.Healthy {
		w.raw(`,"healthy":true`)
	}
	if op.Check != nil {
		w.raw(`,"check":`)
		w.check(op.Check)
	}
	if op.ExpectBeat != 0 {
		w.raw(`,"expectBeat":`)
		w.b = strconv.AppendInt(w.b, op.ExpectBeat, 10)
	}
	w.raw(`}`)
	if !w.ok {
		return b, false
	}
	return w.b, true
}

// opWriter appends JSON; ok turns false at the first string that
// encoding/json would escape.
type opWriter struct {
	b  []byte
	ok bool
}

func (w *opWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *opWriter) str(s string) {
	if !plain(s) {
		w.ok = false
		return
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

func (w *opWriter) bool(v bool) { w.b = appendBool(w.b, v) }

func (w *opWriter) check(c *naming.CheckResult) {
	w.raw(`{"time":`)
	w.b = strconv.AppendInt(w.b, c.Time, 10)
	if c.Reason != "" {
		w.raw(`,"reason":`)
		w.str(c.Reason)
	}
	w.raw(`}`)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendFloat formats a finite float as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// plain reports whether encoding/json writes s between quotes unchanged:
// valid UTF-8 without control characters, the quote, the backslash, the
// characters it escapes for HTML (<, >, &) and U+2028, U+2029.
func plain(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}
