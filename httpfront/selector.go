package httpfront

import (
	"encoding/json"
	"strings"

	"sextant/naming"
)

// serviceFilter is the selector parameter of GET /service/list as Nacos
// 1.4 applies it: a label expression "INSTANCE.metadata.k = 'v'" keeps the
// services with at least one instance whose metadata k is v;
// "SERVICE.metadata.k = 'v'" those whose own metadata k is v. Blanks in
// the expression are ignored and quotes are dropped from the value.
// Nil keeps every service (no selector, type none, a blank expression,
// or a subject other than INSTANCE and SERVICE, which Nacos ignores too).
type serviceFilter func(*naming.Service) bool

// parseServiceFilter reads the selector parameter; a malformed one is a 400.
func parseServiceFilter(raw string) (serviceFilter, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var sel naming.Selector
	if err := json.Unmarshal([]byte(raw), &sel); err != nil {
		return nil, invalid("Param 'selector' is illegal, it must be JSON like {\"type\":\"label\",\"expression\":\"INSTANCE.metadata.k = 'v'\"}: %s", clip(raw))
	}
	switch strings.ToLower(sel.Type) {
	case "none":
		return nil, nil
	case "label":
	default:
		return nil, invalid("Param 'selector' is illegal, type must be none or label: %q", sel.Type)
	}
	expr := strings.Join(strings.Fields(sel.Expression), "")
	if expr == "" {
		return nil, nil
	}
	terms := strings.Split(expr, "=")
	for len(terms) > 0 && terms[len(terms)-1] == "" {
		terms = terms[:len(terms)-1] // as Java's split drops trailing empty strings
	}
	if len(terms) < 2 {
		return nil, invalid("Param 'selector' is illegal, the expression must read INSTANCE.metadata.<key> = '<value>' or SERVICE.metadata.<key> = '<value>': %q", sel.Expression)
	}
	factors := strings.Split(terms[0], ".")
	key, value := factors[len(factors)-1], strings.ReplaceAll(terms[1], "'", "")
	switch factors[0] {
	case "INSTANCE":
		return func(svc *naming.Service) bool {
			for _, in := range svc.Instances {
				if v, ok := in.Metadata[key]; ok && v == value {
					return true
				}
			}
			return false
		}, nil
	case "SERVICE":
		return func(svc *naming.Service) bool {
			v, ok := svc.Meta.Metadata[key]
			return ok && v == value
		}, nil
	}
	return nil, nil
}
