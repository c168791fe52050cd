package httpfront

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// answer is a handler's whole response as data: every handler returns
// one, the pipeline (pipeline.go) wraps it, and an adapter writes it: gin
// (ginadapter.go) or the fasthttp listener (listener.go), so both give the
// same status, headers and body.
type answer struct {
	status int
	json   bool // application/json;charset=UTF-8, else text/plain;charset=UTF-8
	body   []byte
	// tail is written after body: a list's lastRefTime and closing brace
	// after its shared encoding, which is then never copied.
	tail []byte
	// header holds the few headers an answer carries (Authorization,
	// Location, Retry-After), as name and value.
	header [][2]string
	// contentType overrides json when set (pages and metrics served
	// through the pipeline).
	contentType string
}

const (
	textType = "text/plain;charset=UTF-8"
	jsonType = "application/json;charset=UTF-8"
)

func (a answer) typ() string {
	switch {
	case a.contentType != "":
		return a.contentType
	case a.json:
		return jsonType
	}
	return textType
}

// whole is the body with its tail.
func (a answer) whole() []byte {
	if len(a.tail) == 0 {
		return a.body
	}
	return append(append(make([]byte, 0, len(a.body)+len(a.tail)), a.body...), a.tail...)
}

// with adds a header.
func (a answer) with(name, value string) answer {
	a.header = append(a.header, [2]string{name, value})
	return a
}

// okBody is Nacos's "ok".
var okBody = []byte("ok")

func okAnswer() answer { return answer{status: http.StatusOK, body: okBody} }

// textAnswer answers status with a plain-text body.
func textAnswer(status int, body string) answer {
	return answer{status: status, body: []byte(body)}
}

// jsonAnswer answers 200 with v encoded as JSON.
func (s *Server) jsonAnswer(v any) answer { return s.jsonStatusAnswer(http.StatusOK, v) }

// jsonStatusAnswer answers status with v encoded as JSON.
func (s *Server) jsonStatusAnswer(status int, v any) answer {
	b, err := json.Marshal(v)
	if err != nil {
		return fail(err, http.StatusInternalServerError)
	}
	return answer{status: status, json: true, body: b}
}

// busyAnswer refuses a request over MaxInFlight.
func busyAnswer() answer {
	return answer{status: http.StatusServiceUnavailable, body: []byte(busyText)}.with("Retry-After", "1")
}

// panicAnswer is what a request whose handler panicked gets.
func panicAnswer() answer {
	return answer{status: http.StatusInternalServerError, body: []byte("caused: internal error;")}
}

// writeAnswer writes a to a net/http response.
func (s *Server) writeAnswer(w http.ResponseWriter, a answer) {
	h := w.Header()
	switch {
	case a.contentType != "":
		h["Content-Type"] = []string{a.contentType}
	case a.json:
		h["Content-Type"] = s.jsonType
	default:
		h["Content-Type"] = s.textType
	}
	for _, kv := range a.header {
		h.Set(kv[0], kv[1])
	}
	h["Content-Length"] = []string{strconv.Itoa(len(a.body) + len(a.tail))}
	w.WriteHeader(a.status)
	w.Write(a.body)
	if len(a.tail) > 0 {
		w.Write(a.tail)
	}
}
