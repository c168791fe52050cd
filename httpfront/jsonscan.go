package httpfront

import (
	"strings"
	"unicode/utf8"
)

// The JSON clients put in the metadata and beat parameters is nearly always
// of the simplest kind: one flat object whose strings hold no escapes. The
// readers here decode that kind only, without reflection, and report
// !ok for anything else, which encoding/json then reads; so on what they
// accept they agree with encoding/json, and they never decide an error.

// jsonScan walks JSON text.
type jsonScan struct {
	s string
	i int
}

// maxFastDepth bounds the nesting jsonScan skips over.
const maxFastDepth = 8

func (j *jsonScan) ws() {
	for j.i < len(j.s) {
		switch j.s[j.i] {
		case ' ', '\t', '\n', '\r':
			j.i++
		default:
			return
		}
	}
}

// peek returns the next byte, 0 at the end.
func (j *jsonScan) peek() byte {
	if j.i < len(j.s) {
		return j.s[j.i]
	}
	return 0
}

// str reads a string without escapes, control bytes or invalid UTF-8
// (the cases where its text is not simply the bytes between the quotes).
func (j *jsonScan) str() (string, bool) {
	if j.peek() != '"' {
		return "", false
	}
	start := j.i + 1
	ascii := true
	for k := start; k < len(j.s); k++ {
		c := j.s[k]
		switch {
		case c == '"':
			v := j.s[start:k]
			if !ascii && !utf8.ValidString(v) {
				return "", false
			}
			j.i = k + 1
			return v, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", false
}

// number reads a number as the JSON grammar has it.
func (j *jsonScan) number() bool {
	s, k := j.s, j.i
	if k < len(s) && s[k] == '-' {
		k++
	}
	switch {
	case k < len(s) && s[k] == '0':
		k++
	case k < len(s) && s[k] >= '1' && s[k] <= '9':
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
	default:
		return false
	}
	if k < len(s) && s[k] == '.' {
		k++
		d := k
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k == d {
			return false
		}
	}
	if k < len(s) && (s[k] == 'e' || s[k] == 'E') {
		k++
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		d := k
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k == d {
			return false
		}
	}
	j.i = k
	return true
}

// value skips one value, returning its text.
func (j *jsonScan) value(depth int) (string, bool) {
	start := j.i
	switch c := j.peek(); {
	case c == '"':
		if _, ok := j.str(); !ok {
			return "", false
		}
	case c == '-' || (c >= '0' && c <= '9'):
		if !j.number() {
			return "", false
		}
	case c == 't' || c == 'f' || c == 'n':
		lit := "null"
		if c == 't' {
			lit = "true"
		} else if c == 'f' {
			lit = "false"
		}
		if !strings.HasPrefix(j.s[j.i:], lit) {
			return "", false
		}
		j.i += len(lit)
	case c == '{' || c == '[':
		if depth >= maxFastDepth || !j.container(depth+1) {
			return "", false
		}
	default:
		return "", false
	}
	return j.s[start:j.i], true
}

// container skips an object or an array.
func (j *jsonScan) container(depth int) bool {
	obj := j.peek() == '{'
	end := byte(']')
	if obj {
		end = '}'
	}
	j.i++
	j.ws()
	if j.peek() == end {
		j.i++
		return true
	}
	for {
		if obj {
			if _, ok := j.str(); !ok {
				return false
			}
			j.ws()
			if j.peek() != ':' {
				return false
			}
			j.i++
			j.ws()
		}
		if _, ok := j.value(depth); !ok {
			return false
		}
		j.ws()
		switch j.peek() {
		case ',':
			j.i++
			j.ws()
		case end:
			j.i++
			return true
		default:
			return false
		}
	}
}

// members reads a JSON object that is all of s (JSON white space around
// it allowed), calling fn with each key and the text of its value; ok is
// false when s is not of the simple kind or fn refuses a member.
func (j *jsonScan) members(fn func(k, v string) bool) bool {
	j.ws()
	if j.peek() != '{' {
		return false
	}
	j.i++
	j.ws()
	if j.peek() == '}' {
		j.i++
	} else {
		for {
			k, ok := j.str()
			if !ok {
				return false
			}
			j.ws()
			if j.peek() != ':' {
				return false
			}
			j.i++
			j.ws()
			v, ok := j.value(1)
			if !ok || !fn(k, v) {
				return false
			}
			j.ws()
			if j.peek() == ',' {
				j.i++
				j.ws()
				continue
			}
			if j.peek() != '}' {
				return false
			}
			j.i++
			break
		}
	}
	j.ws()
	return j.i == len(j.s)
}

// flatStrings reads an object whose values are all strings, as
// encoding/json would into a map[string]string (the last of repeated keys
// wins).
func flatStrings(s string) (map[string]string, bool) {
	md := map[string]string{}
	j := jsonScan{s: s}
	ok := j.members(func(k, v string) bool {
		if len(v) < 2 || v[0] != '"' {
			return false
		}
		md[k] = v[1 : len(v)-1]
		return true
	})
	return md, ok
}

// beatFields is the fields of beatWire by their JSON names.
var beatFields = [...]string{"ip", "port", "weight", "serviceName", "cluster", "metadata", "ephemeral"}

// fastBeatWire reads the beat JSON into w as json.Unmarshal would.
func fastBeatWire(raw string, w *beatWire) bool {
	j := jsonScan{s: raw}
	return j.members(func(k, v string) bool {
		str := func(dst *string) bool {
			if len(v) < 2 || v[0] != '"' {
				return false // null, or a type error encoding/json reports
			}
			*dst = v[1 : len(v)-1]
			return true
		}
		switch k {
		case "ip":
			return str(&w.IP)
		case "serviceName":
			return str(&w.ServiceName)
		case "cluster":
			return str(&w.Cluster)
		case "port":
			w.Port = v
		case "weight":
			w.Weight = v
		case "metadata":
			w.Metadata = v
		case "ephemeral":
			w.Ephemeral = v
		default:
			// encoding/json also matches field names case-insensitively.
			for _, f := range beatFields {
				if strings.EqualFold(k, f) {
					return false
				}
			}
		}
		return true
	})
}
