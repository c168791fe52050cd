package httpfront

import (
	"context"
	"errors"
	"net/http"

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

// fail answers err: the status from errorStatus (notFound for
// naming.ErrNotFound) and Nacos's plain-text message. The pipeline logs
// 5xx answers with their route.
func fail(err error, notFound int) answer {
	status := errorStatus(err, notFound)
	return answer{status: status, body: []byte(errorBody(err, status))}
}

// bad answers a malformed request (400).
func bad(err error) answer { return fail(err, http.StatusBadRequest) }

// deny answers a refused request: 403 with Nacos's message, or 503
// when the password check could not run now.
func deny(err error) answer {
	if errorsIsDenied(err) {
		return answer{status: http.StatusForbidden, body: []byte(errorBody(err, http.StatusForbidden))}
	}
	return fail(err, http.StatusForbidden)
}
