package httpfront

import "strings"

// values are request parameters: the URL query first, then a form body, as
// Java's ServletRequest.getParameter merges them.
type values map[string][]string

// encoderEscapes are bytes every form encoder (Go's url.Values, Java's
// URLEncoder, Node's querystring) escapes. Finding one means the client sent
// the string unescaped, as nacos-sdk-go v1 does for GET/DELETE queries and
// PUT bodies.
const encoderEscapes = "{}\"@[] ,:|<>\\"

// parseForm adds the parameters of a query string or form body to v.
//
// It is more lenient than url.ParseQuery: a '%' not followed by two hex
// digits is kept as is instead of dropping the pair, ';' is an ordinary
// byte, and in a string sent unescaped '+' stays '+' and a JSON value cut
// by a raw '&' inside it is joined again.
func parseForm(v values, s string) {
	raw := strings.ContainsAny(s, encoderEscapes)
	for s != "" {
		var seg string
		seg, s, _ = strings.Cut(s, "&")
		if seg == "" {
			continue
		}
		k, val, _ := strings.Cut(seg, "=")
		if raw && (strings.HasPrefix(val, "{") || strings.HasPrefix(val, "[")) {
			for !jsonClosed(val) && s != "" {
				var next string
				next, s, _ = strings.Cut(s, "&")
				val += "&" + next
			}
		}
		k = unescape(k, !raw)
		if k == "" {
			continue
		}
		v[k] = append(v[k], unescape(val, !raw))
	}
}

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

// get returns the first value of key, trimmed; "" when absent.
func (v values) get(key string) string {
	if vs := v[key]; len(vs) > 0 {
		return strings.TrimSpace(vs[0])
	}
	return ""
}
