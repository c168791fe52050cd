package httpfront

import (
	"encoding/json"
	"strings"

	"sextant/naming"
)

// parseMetadata reads instance or service metadata as Nacos does: a JSON
// object whose values are strings (numbers and booleans are taken as their
// text), or else "k1=v1,k2=v2". provided is false for a blank value and for
// JSON null, so an update can tell "keep" from "clear".
func parseMetadata(raw string) (md map[string]string, provided bool, err error) {
	s := strings.TrimSpace(raw)
	if s == "" || s == "null" {
		return map[string]string{}, false, nil
	}
	if strings.HasPrefix(s, "{") {
		if md, ok := flatStrings(s); ok {
			return md, true, nil
		}
		md, err := metadataJSON(s)
		if err != nil {
			return nil, false, naming.Errorf(naming.ErrInvalid, "metadata format incorrect:%s", raw)
		}
		return md, true, nil
	}
	md = map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.Contains(v, "=") {
			return nil, false, naming.Errorf(naming.ErrInvalid, "metadata format incorrect:%s", raw)
		}
		md[k] = v
	}
	return md, true, nil
}

// metadataJSON decodes a JSON object of scalar values into strings.
func metadataJSON(s string) (map[string]string, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errTrailing
	}
	return stringMap(m)
}

var errTrailing = naming.Errorf(naming.ErrInvalid, "trailing data after JSON")

// stringMap turns decoded JSON scalars into strings; nested objects and
// arrays are refused, since clients read metadata as map[string]string.
func stringMap(m map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = x
		case json.Number:
			out[k] = x.String()
		case bool:
			if x {
				out[k] = "true"
			} else {
				out[k] = "false"
			}
		case nil:
			out[k] = ""
		default:
			return nil, naming.Errorf(naming.ErrInvalid, "metadata value of %q is not a string", k)
		}
	}
	return out, nil
}
