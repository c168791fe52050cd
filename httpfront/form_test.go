package httpfront

import (
	"strings"
	"testing"
)

// values are request parameters by name, each with its values in order:
// the map form of params, as the tests state expectations.
type values map[string][]string

// parseForm adds the parameters of a query string or form body to v. It is
// the map-building reader the front used before params; the tests hold
// params and scanListParams to it.
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

// get returns the first value of key, trimmed; "" when absent.
func (v values) get(key string) string {
	if vs := v[key]; len(vs) > 0 {
		return strings.TrimSpace(vs[0])
	}
	return ""
}

func TestIsEncoderEscapeIsEncoderEscapes(t *testing.T) {
	for c := 0; c < 256; c++ {
		if isEncoderEscape(byte(c)) != (strings.IndexByte(encoderEscapes, byte(c)) >= 0) {
			t.Errorf("isEncoderEscape(%q) = %v", byte(c), isEncoderEscape(byte(c)))
		}
	}
}
