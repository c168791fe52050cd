package dnsfront

import (
	"net/netip"
	"strings"

	"sextant/naming"
)

// nameKind says what a query name refers to under the zone.
type nameKind uint8

const (
	nameInvalid    nameKind = iota // not a well-formed domain name
	nameOutside                    // not under the zone
	nameMissing                    // under the zone, but the scheme has no such name: NXDOMAIN
	nameApex                       // the zone itself
	nameHost                       // ns.<zone>, the name server
	nameStructural                 // an empty non-terminal of the scheme: service., addr., x.group., _tcp.service. ...
	nameService                    // <service>.service...: A, AAAA, SRV, TXT
	nameSRV                        // _<service>._tcp.service... and _<port>._tcp.<service>.service...: SRV
	nameServiceENT                 // _tcp.<service>.service...: exists when the service does
	nameSuffix                     // <tail>._tcp.service...: exists when tail ends some service's name
	nameAddr                       // <hex>.addr.<zone>: the address the label spells
)

// Keywords of the name scheme, matched case-insensitively.
const (
	kwService = "service"
	kwGroup   = "group"
	kwNS      = "ns"
	kwCluster = "cluster"
	kwAddr    = "addr"
)

// parsedName is a query name taken apart. Strings keep the query's case;
// group, namespace and cluster are "" when the name does not give them.
type parsedName struct {
	kind      nameKind
	service   string
	group     string
	namespace string
	cluster   string
	addr      netip.Addr
}

// label is one label of a name with escapes resolved; start and end locate
// it in the presentation form when the name has no escapes.
type label struct {
	text       string
	start, end int
}

// stackLabels is how many labels parseName keeps on the stack; longer
// names spill to the heap.
const stackLabels = 16

// parseName parses a fully qualified presentation-format name, reading it
// from the right: the zone, then value.keyword pairs (group, ns, cluster,
// each at most once), then the keyword service or addr. zone holds the
// zone's labels, lowercase.
func parseName(name string, zone []string) parsedName {
	var buf [stackLabels]label
	labels, escaped, ok := splitName(name, buf[:0])
	if !ok {
		return parsedName{kind: nameInvalid}
	}
	n := len(labels) - len(zone)
	if n < 0 {
		return parsedName{kind: nameOutside}
	}
	for i, z := range zone {
		if !strings.EqualFold(labels[n+i].text, z) {
			return parsedName{kind: nameOutside}
		}
	}
	rest := labels[:n]
	var p parsedName
	pairs := false
	for {
		if len(rest) == 0 {
			if pairs {
				return parsedName{kind: nameStructural}
			}
			return parsedName{kind: nameApex}
		}
		kw := rest[len(rest)-1].text
		rest = rest[:len(rest)-1]
		var slot *string
		switch {
		case strings.EqualFold(kw, kwService):
			parseServiceLabels(&p, name, rest, escaped)
			return p
		case strings.EqualFold(kw, kwAddr):
			return parseAddrName(rest, pairs)
		case strings.EqualFold(kw, kwGroup):
			slot = &p.group
		case strings.EqualFold(kw, kwNS):
			slot = &p.namespace
		case strings.EqualFold(kw, kwCluster):
			slot = &p.cluster
		default:
			return parsedName{kind: nameMissing}
		}
		if len(rest) == 0 {
			// A keyword without its value is the parent of every value.
			if !pairs && slot == &p.namespace {
				return parsedName{kind: nameHost}
			}
			return parsedName{kind: nameStructural}
		}
		if *slot != "" {
			return parsedName{kind: nameMissing}
		}
		*slot = rest[len(rest)-1].text
		rest = rest[:len(rest)-1]
		pairs = true
	}
}

// parseServiceLabels reads the labels left of the keyword service.
func parseServiceLabels(p *parsedName, name string, ls []label, escaped bool) {
	k := len(ls)
	switch {
	case k == 0:
		p.kind = nameStructural
	case isProto(ls[k-1].text):
		// RFC 2782: _<service>._tcp; anything else ending in _tcp is one of
		// its empty non-terminals (_tcp alone, or the tail of a dotted name).
		switch {
		case k == 1:
			p.kind = nameStructural
		case ls[0].text[0] == '_':
			p.kind, p.service = nameSRV, joinLabels(name, ls[:k-1], escaped)[1:]
		default:
			p.kind, p.service = nameSuffix, joinLabels(name, ls[:k-1], escaped)
		}
	case k >= 3 && ls[0].text[0] == '_' && isProto(ls[1].text):
		// _<port>._tcp.<service>: the port name is not used.
		p.kind, p.service = nameSRV, joinLabels(name, ls[2:], escaped)
	case k >= 2 && isProto(ls[0].text):
		p.kind, p.service = nameServiceENT, joinLabels(name, ls[1:], escaped)
	default:
		p.kind, p.service = nameService, joinLabels(name, ls, escaped)
	}
	if p.service == "" && p.kind != nameStructural {
		*p = parsedName{kind: nameMissing}
	}
}

// parseAddrName reads the labels left of the keyword addr.
func parseAddrName(ls []label, pairs bool) parsedName {
	switch {
	case pairs || len(ls) > 1:
		return parsedName{kind: nameMissing}
	case len(ls) == 0:
		return parsedName{kind: nameStructural}
	}
	ip, ok := parseAddrLabel(ls[0].text)
	if !ok {
		return parsedName{kind: nameMissing}
	}
	return parsedName{kind: nameAddr, addr: ip}
}

func isProto(s string) bool { return strings.EqualFold(s, "_tcp") || strings.EqualFold(s, "_udp") }

// splitName splits a fully qualified presentation-format name into its
// labels, left to right, without the root, appending to buf. escaped tells
// whether the name used escapes (then start and end are not set). ok is
// false for a malformed name.
func splitName(name string, buf []label) (labels []label, escaped, ok bool) {
	if name == "" || name[len(name)-1] != '.' {
		return nil, false, false
	}
	if name == "." {
		return buf, false, true
	}
	if strings.IndexByte(name, '\\') >= 0 {
		return splitEscaped(name, buf)
	}
	start := 0
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			if i == start {
				return nil, false, false
			}
			buf = append(buf, label{text: name[start:i], start: start, end: i})
			start = i + 1
		}
	}
	return buf, false, true
}

// splitEscaped is splitName for names with \X and \DDD escapes.
func splitEscaped(name string, buf []label) ([]label, bool, bool) {
	var cur []byte
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '\\':
			if i+1 >= len(name) {
				return nil, true, false
			}
			if i+3 < len(name) && isDigit(name[i+1]) && isDigit(name[i+2]) && isDigit(name[i+3]) {
				v := int(name[i+1]-'0')*100 + int(name[i+2]-'0')*10 + int(name[i+3]-'0')
				if v > 255 {
					return nil, true, false
				}
				cur = append(cur, byte(v))
				i += 3
			} else {
				cur = append(cur, name[i+1])
				i++
			}
		case '.':
			if len(cur) == 0 {
				return nil, true, false
			}
			buf = append(buf, label{text: string(cur)})
			cur = cur[:0]
		default:
			cur = append(cur, c)
		}
	}
	if len(cur) != 0 {
		return nil, true, false
	}
	return buf, true, true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// joinLabels returns the labels joined with dots, as a slice of name when
// the name has no escapes.
func joinLabels(name string, ls []label, escaped bool) string {
	switch {
	case len(ls) == 0:
		return ""
	case len(ls) == 1:
		return ls[0].text
	case !escaped:
		return name[ls[0].start:ls[len(ls)-1].end]
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.text
	}
	return strings.Join(parts, ".")
}

// lowerASCII folds ASCII letters to lowercase, as DNS compares names
// (RFC 4343); it returns s itself when there is nothing to fold.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// serviceKey is the key of the service a parsed name asks for, with the
// default group and namespace filled in.
func serviceKey(p parsedName) naming.ServiceKey {
	key := naming.ServiceKey{Namespace: p.namespace, Group: p.group, Name: p.service}
	if key.Namespace == "" {
		key.Namespace = naming.DefaultNamespace
	}
	if key.Group == "" {
		key.Group = naming.DefaultGroup
	}
	return key
}
