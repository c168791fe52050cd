package httpfront

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// answer is a handler's whole response as data. The hot routes (beat,
// register, deregister, list) and every error build one, and gin (reply),
// net/http (writeAnswer) or the fasthttp front (listener.go) writes it, so all
// give the same status, Content-Type and body.
type answer struct {
	status int
	json   bool // application/json;charset=UTF-8, else text/plain;charset=UTF-8
	body   []byte
}

const (
	textType = "text/plain;charset=UTF-8"
	jsonType = "application/json;charset=UTF-8"
)

func (a answer) contentType() string {
	if a.json {
		return jsonType
	}
	return textType
}

// okAnswer is Nacos's "ok".
var okBody = []byte("ok")

func okAnswer() answer { return answer{status: http.StatusOK, body: okBody} }

// busyAnswer refuses a request over MaxInFlight (with Retry-After: 1).
func busyAnswer() answer {
	return answer{status: http.StatusServiceUnavailable, body: []byte(busyText)}
}

// panicAnswer is what a request whose handler panicked gets.
func panicAnswer() answer {
	return answer{status: http.StatusInternalServerError, body: []byte("caused: internal error;")}
}

// reply writes a through gin, as c.Data would.
func (s *Server) reply(c *gin.Context, a answer) { s.writeAnswer(c.Writer, a) }

// writeAnswer writes a to a net/http response.
func (s *Server) writeAnswer(w http.ResponseWriter, a answer) {
	h := w.Header()
	if a.json {
		h["Content-Type"] = s.jsonType
	} else {
		h["Content-Type"] = s.textType
	}
	h["Content-Length"] = []string{strconv.Itoa(len(a.body))}
	w.WriteHeader(a.status)
	w.Write(a.body)
}
