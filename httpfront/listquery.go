package httpfront

import (
	"strconv"
	"strings"
)

// listRoute is the path of the query every client polls.
const listRoute = nsPrefix + "/instance/list"

// mayAskConsistent reports whether a raw query could carry the consistent
// parameter as url.ParseQuery reads it: a key that is "consistent" or
// holds an escape.
func mayAskConsistent(q string) bool {
	for q != "" {
		var seg string
		seg, q, _ = strings.Cut(q, "&")
		k, _, _ := strings.Cut(seg, "=")
		if k == "consistent" || strings.Contains(k, "%") {
			return true
		}
	}
	return false
}

// scanListParams reads the parameters of instance/list from a query as
// parse and request.get do, without building the parameter list.
func scanListParams(query string) listParams {
	var lp listParams
	var seen [13]bool
	sc := newParamScanner(query)
	for {
		k, raw, ok := sc.next()
		if !ok {
			return lp
		}
		var dst *string
		i := 0
		switch k {
		case "serviceName":
			dst, i = &lp.serviceName, 0
		case "dom":
			dst, i = &lp.dom, 1
		case "groupName":
			dst, i = &lp.groupName, 2
		case "namespaceId":
			dst, i = &lp.namespaceID, 3
		case "healthyOnly":
			dst, i = &lp.healthyOnly, 4
		case "udpPort":
			dst, i = &lp.udpPort, 5
		case "clusters":
			dst, i = &lp.clusters, 6
		case "clientIP":
			dst, i = &lp.clientIP, 7
		case "app":
			dst, i = &lp.app, 8
		case "env":
			dst, i = &lp.env, 9
		case "accessToken":
			dst, i = &lp.accessToken, 10
		case "username":
			dst, i = &lp.username, 11
		case "password":
			dst, i = &lp.password, 12
		default:
			continue
		}
		if !seen[i] {
			seen[i] = true
			*dst = strings.TrimSpace(sc.value(raw))
		}
	}
}

// listTail is the end of a list body for one millisecond: lastRefTime's
// digits and the closing brace.
type listTail struct {
	ms   int64
	tail []byte // never modified once stored
}

// stamp returns the tail of a list body written at ms. Lists answered in
// the same millisecond share one.
func (s *Server) stamp(ms int64) []byte {
	if t := s.tail.Load(); t != nil && t.ms == ms {
		return t.tail
	}
	b := strconv.AppendInt(make([]byte, 0, 24), ms, 10)
	b = append(b, '}')
	s.tail.Store(&listTail{ms: ms, tail: b})
	return b
}
