package httpfront

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// The Nacos 2.x Open API (/nacos/v2/...) answers {"code","message","data"}:
// code 0 and message "success" with the payload in data, or a detail code,
// its short message and the error's text in data, under the HTTP status
// of the error. Its routes run the v1 handlers; v2Envelope wraps what
// they answer, so both versions share every check and every rule.

// v2Codes are the detail codes of Nacos's ErrorCode that Sextant answers.
var v2Codes = map[int]string{
	0:     "success",
	10000: "parameter missing",
	10001: "access denied",
	20002: "parameter validate error",
	20004: "resource not found",
	21003: "instance not found",
	21007: "service already exist",
	21008: "service not exist",
	21010: "healthy param miss",
	21011: "health check still running",
	22001: "namespace not exist",
	30000: "server error",
}

// v2Route says how a v1 handler serves a v2 route.
type v2Route struct {
	// raw routes answer as v1 does, unwrapped (PATCH /instance, beat,
	// statuses), as Nacos 2.x does.
	raw bool
	// notFound is the detail code of a missing thing (default 20004).
	notFound int
	// require is a parameter the v2 route needs and the v1 handler does not.
	require string
	// prep adapts the v2 parameters to the v1 handler's before it runs.
	prep func(p *request)
	// shape turns the v1 handler's JSON payload into the v2 one.
	shape func(p *request, data any) any
}

// v2Handler serves a v2 route with the v1 handler fn: the parameter rt
// requires, then its preparation of the parameters.
func v2Handler(rt v2Route, fn handler) handler {
	return func(ctx context.Context, p *request) answer {
		if rt.require != "" {
			if _, err := p.required(rt.require); err != nil {
				return bad(err)
			}
		}
		if rt.prep != nil {
			rt.prep(p)
		}
		return fn(ctx, p)
	}
}

// v2Envelope puts the answer of a v2 route (its handler's, or a check's
// before it) in the envelope; redirects (consistent
// reads) keep theirs.
func (s *Server) v2Envelope(rt *v2Route, p *request, a answer) answer {
	if a.status >= 300 && a.status < 400 {
		return a
	}
	a.body, a.tail = a.whole(), nil
	var env map[string]any
	if a.status < 300 {
		var data any = string(a.body)
		if a.json || bytes.Equal(a.body, []byte("true")) || bytes.Equal(a.body, []byte("false")) {
			var v any
			if err := json.Unmarshal(a.body, &v); err == nil {
				data = v
			}
		}
		if rt.shape != nil {
			data = rt.shape(p, data)
		}
		env = map[string]any{"code": 0, "message": v2Codes[0], "data": data}
	} else {
		code := v2ErrorCode(a.status, string(a.body), rt.notFound)
		env = map[string]any{"code": code, "message": v2Codes[code], "data": string(a.body)}
	}
	b, _ := json.Marshal(env)
	return answer{status: a.status, json: true, body: b, header: a.header}
}

// v2ErrorCode is the detail code of a v1 error answer.
func v2ErrorCode(status int, msg string, notFound int) int {
	if notFound == 0 {
		notFound = 20004
	}
	missing := strings.Contains(msg, "not found") || strings.Contains(msg, "not exist") || strings.Contains(msg, "no service")
	switch {
	case msg == "Param 'healthy' is required.":
		return 21010
	case strings.HasPrefix(msg, "health check is still working"):
		return 21011
	case status == http.StatusNotFound, status == http.StatusBadRequest && missing:
		return notFound
	case status == http.StatusBadRequest && strings.HasSuffix(msg, "is required."):
		return 10000
	case status == http.StatusBadRequest && strings.Contains(msg, "already exist"):
		return 21007
	case status == http.StatusBadRequest, status == http.StatusRequestEntityTooLarge:
		return 20002
	case status == http.StatusForbidden:
		return 10001
	}
	return 30000
}
