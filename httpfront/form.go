package httpfront

import "strings"

// encoderEscapes are bytes every form encoder (Go's url.Values, Java's
// URLEncoder, Node's querystring) escapes. Finding one means the client sent
// the string unescaped, as nacos-sdk-go v1 does for GET/DELETE queries and
// PUT bodies.
const encoderEscapes = "{}\"@[] ,:|<>\\"

// paramScanner walks the parameters of a query string or form body in
// order; a value is only decoded when asked for.
//
// It is more lenient than url.ParseQuery: a '%' not followed by two hex
// digits is kept as is instead of dropping the pair, ';' is an ordinary
// byte, and in a string sent unescaped '+' stays '+' and a JSON value cut
// by a raw '&' inside it is joined again.
type paramScanner struct {
	s   string
	raw bool // sent unescaped: '+' stays '+', JSON values may hold '&'
}

func newParamScanner(s string) paramScanner {
	raw := false
	for i := 0; i < len(s) && !raw; i++ {
		raw = isEncoderEscape(s[i])
	}
	return paramScanner{s: s, raw: raw}
}

// isEncoderEscape reports whether c is one of encoderEscapes (a bit test,
// as strings.ContainsAny would build a set on each call).
func isEncoderEscape(c byte) bool {
	const (
		low  = 1<<' ' | 1<<'"' | 1<<',' | 1<<':' | 1<<'<' | 1<<'>'
		high = 1<<('@'-64) | 1<<('['-64) | 1<<('\\'-64) | 1<<(']'-64) | 1<<('{'-64) | 1<<('|'-64) | 1<<('}'-64)
	)
	switch {
	case c < 64:
		return low>>c&1 != 0
	case c < 128:
		return high>>(c-64)&1 != 0
	}
	return false
}

// next returns the next parameter: its decoded key and its value as sent
// (decode it with value); ok is false at the end.
func (sc *paramScanner) next() (key, rawValue string, ok bool) {
	for sc.s != "" {
		var seg string
		seg, sc.s, _ = strings.Cut(sc.s, "&")
		if seg == "" {
			continue
		}
		k, val, _ := strings.Cut(seg, "=")
		if sc.raw && (strings.HasPrefix(val, "{") || strings.HasPrefix(val, "[")) {
			for !jsonClosed(val) && sc.s != "" {
				var next string
				next, sc.s, _ = strings.Cut(sc.s, "&")
				val += "&" + next
			}
		}
		k = unescape(k, !sc.raw)
		if k == "" {
			continue
		}
		return k, val, true
	}
	return "", "", false
}

// value decodes a value next returned.
func (sc *paramScanner) value(raw string) string { return unescape(raw, !sc.raw) }

// jsonClosed reports whether every bracket opened in s outside strings is
// closed, i.e. the JSON text was not cut short.
func jsonClosed(s string) bool {
	depth, inStr, esc := 0, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
	}
	return depth <= 0 && !inStr
}

// unescape decodes %XX sequences (a stray '%' is kept) and, when plusSpace
// is set, '+' as a space.
func unescape(s string, plusSpace bool) string {
	if !strings.Contains(s, "%") && (!plusSpace || !strings.Contains(s, "+")) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case c == '+' && plusSpace:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// param is one request parameter.
type param struct{ k, v string }

// params are request parameters in the order sent (query first, then a form
// body), as Java's ServletRequest.getParameter sees them. A handful of
// parameters is searched faster in a slice than hashed into a map.
type params []param

// add appends the parameters of a query string or form body.
func (ps *params) add(s string) {
	sc := newParamScanner(s)
	for {
		k, raw, ok := sc.next()
		if !ok {
			return
		}
		*ps = append(*ps, param{k, sc.value(raw)})
	}
}

// get returns the first value of key, trimmed; "" when absent.
func (ps params) get(key string) string {
	for i := range ps {
		if ps[i].k == key {
			return strings.TrimSpace(ps[i].v)
		}
	}
	return ""
}
