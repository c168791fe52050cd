package httpfront

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// answer is a handler's whole response as data. The hot write routes
// (beat, register, deregister) build one, and either gin (reply) or the
// fasthttp front (wire.go) writes it, so both give the same status,
// Content-Type and body.
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

// failAnswer is what fail writes for err: the status from errorStatus
// (notFound for naming.ErrNotFound) and Nacos's plain-text message; 5xx
// answers are logged with the route.
func (s *Server) failAnswer(err error, notFound int, route string) answer {
	status := errorStatus(err, notFound)
	if status >= 500 {
		s.log.WithError(err).WithField("path", route).Warn("request failed")
	}
	return answer{status: status, body: []byte(errorBody(err, status))}
}

// badAnswer answers a malformed request (400).
func (s *Server) badAnswer(err error, route string) answer {
	return s.failAnswer(err, http.StatusBadRequest, route)
}

// reply writes a through gin, as c.Data would.
func (s *Server) reply(c *gin.Context, a answer) {
	h := c.Writer.Header()
	if a.json {
		h["Content-Type"] = s.jsonType
	} else {
		h["Content-Type"] = s.textType
	}
	h["Content-Length"] = []string{strconv.Itoa(len(a.body))}
	c.Writer.WriteHeader(a.status)
	c.Writer.Write(a.body)
}
