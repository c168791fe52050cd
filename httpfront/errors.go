package httpfront

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"sextant/naming"
)

// errorStatus is the one table from error kinds to HTTP statuses. Nacos
// answers a missing thing with 404 on some endpoints and 400 on others, so
// the caller says which status naming.ErrNotFound gets.
func errorStatus(err error, notFound int) int {
	switch {
	case errors.Is(err, naming.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, naming.ErrNotFound):
		return notFound
	case errors.Is(err, naming.ErrConflict), errors.Is(err, naming.ErrForbidden):
		return http.StatusBadRequest
	case errors.Is(err, naming.ErrUnavailable),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	case errors.Is(err, naming.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// errorBody is the plain-text body Nacos clients show: the naming.Error
// message, or "caused: <error>;" for unexpected errors as Nacos writes them.
func errorBody(err error, status int) string {
	if status == http.StatusInternalServerError {
		return "caused: " + err.Error() + ";"
	}
	var ne *naming.Error
	if errors.As(err, &ne) {
		return ne.Msg
	}
	return err.Error()
}

// failAnswer answers err: the status from errorStatus (notFound for
// naming.ErrNotFound) and Nacos's plain-text message; 5xx answers are
// logged with the path.
func (s *Server) failAnswer(err error, notFound int, path string) answer {
	status := errorStatus(err, notFound)
	if status >= 500 {
		s.log.WithError(err).WithField("path", path).Warn("request failed")
	}
	return answer{status: status, body: []byte(errorBody(err, status))}
}

// badAnswer answers a malformed request (400).
func (s *Server) badAnswer(err error, path string) answer {
	return s.failAnswer(err, http.StatusBadRequest, path)
}

// denyAnswer answers a refused request: 403 with Nacos's message, or 503
// when the password check could not run now.
func (s *Server) denyAnswer(err error, path string) answer {
	if errorsIsDenied(err) {
		return answer{status: http.StatusForbidden, body: []byte(errorBody(err, http.StatusForbidden))}
	}
	return s.failAnswer(err, http.StatusForbidden, path)
}

// fail answers err, with notFound as the status for naming.ErrNotFound.
func (s *Server) fail(c *gin.Context, err error, notFound int) {
	s.reply(c, s.failAnswer(err, notFound, c.Request.URL.Path))
}

// bad answers a malformed request (400).
func (s *Server) bad(c *gin.Context, err error) { s.fail(c, err, http.StatusBadRequest) }

func text(c *gin.Context, status int, body string) {
	c.Data(status, textType, []byte(body))
}

func ok(c *gin.Context) { text(c, http.StatusOK, "ok") }
