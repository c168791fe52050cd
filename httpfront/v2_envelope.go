package httpfront

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
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

const v2RouteKey = "sextant.v2route"

// v2 serves a v2 route with the v1 handler fn.
func (s *Server) v2(rt v2Route, fn handler) gin.HandlerFunc {
	return s.h(func(c *gin.Context, p *request) {
		c.Set(v2RouteKey, &rt)
		if rt.require != "" {
			if _, err := p.required(rt.require); err != nil {
				s.bad(c, err)
				return
			}
		}
		if rt.prep != nil {
			rt.prep(p)
		}
		if rt.shape != nil {
			c.Set(v2ShapeParams, p)
		}
		fn(c, p)
	})
}

const v2ShapeParams = "sextant.v2params"

// v2Envelope is the middleware of every v2 group: it keeps what the
// handlers (and the checks before them) answer, and writes it enveloped.
func (s *Server) v2Envelope(c *gin.Context) {
	orig := c.Writer
	w := &keptWriter{ResponseWriter: orig}
	c.Writer = w
	defer func() { c.Writer = orig }() // a panic is answered by recovery, on the real writer
	c.Next()
	c.Writer = orig
	rt := &v2Route{}
	if v, ok := c.Get(v2RouteKey); ok {
		rt = v.(*v2Route)
	}
	h := orig.Header()
	status := w.Status()
	if rt.raw || status >= 300 && status < 400 { // a redirect (consistent read) stays one
		orig.WriteHeader(status)
		orig.Write(w.body)
		return
	}
	delete(h, "Content-Length")
	isJSON := strings.HasPrefix(h.Get("Content-Type"), "application/json")
	var env map[string]any
	if status < 300 {
		var data any = string(w.body)
		if isJSON || bytes.Equal(w.body, []byte("true")) || bytes.Equal(w.body, []byte("false")) {
			var v any
			if err := json.Unmarshal(w.body, &v); err == nil {
				data = v
			}
		}
		if p, ok := c.Get(v2ShapeParams); ok && rt.shape != nil {
			data = rt.shape(p.(*request), data)
		}
		env = map[string]any{"code": 0, "message": v2Codes[0], "data": data}
	} else {
		code := v2ErrorCode(status, string(w.body), rt.notFound)
		env = map[string]any{"code": code, "message": v2Codes[code], "data": string(w.body)}
	}
	b, _ := json.Marshal(env)
	h["Content-Type"] = s.jsonType
	orig.WriteHeader(status)
	orig.Write(b)
}

// v2ErrorAnswer is a v1 error answer in the envelope, for the checks that
// answer before the v2 groups' middleware runs (shedding).
func v2ErrorAnswer(a answer) answer {
	code := v2ErrorCode(a.status, string(a.body), 0)
	b, _ := json.Marshal(map[string]any{"code": code, "message": v2Codes[code], "data": string(a.body)})
	return answer{status: a.status, json: true, body: b}
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

// keptWriter keeps a handler's status and body instead of sending them;
// headers go to the real writer.
type keptWriter struct {
	gin.ResponseWriter
	status int
	body   []byte
}

func (w *keptWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *keptWriter) WriteHeaderNow() { w.WriteHeader(http.StatusOK) }

func (w *keptWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.body = append(w.body, b...)
	return len(b), nil
}

func (w *keptWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

func (w *keptWriter) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

func (w *keptWriter) Size() int     { return len(w.body) }
func (w *keptWriter) Written() bool { return w.status != 0 }
func (w *keptWriter) Flush()        {}
