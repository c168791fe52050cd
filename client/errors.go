package client

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrAllServersFailed is wrapped by the error of a request that no
	// server answered successfully.
	ErrAllServersFailed = errors.New("all servers failed")
	// ErrNoServers: no server address is known (yet).
	ErrNoServers = errors.New("no server address known")
	// ErrNoHealthyInstance: the service has no healthy, enabled instance
	// of positive weight.
	ErrNoHealthyInstance = errors.New("no healthy instance")
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("client is closed")
)

// StatusError is a server's answer with a status other than 2xx. A 4xx
// (other than 403 with login on, 408 and 429) is returned at once: the
// request itself is at fault and every server would say the same.
type StatusError struct {
	Server string
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s answered HTTP %d: %s", e.Server, e.Status, clip(e.Body))
}

// ClientFault reports whether the status blames the request.
func (e *StatusError) ClientFault() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != 408 && e.Status != 429
}

// RequestError is the error of a request that failed on every server
// tried; it lists each server's failure and wraps ErrAllServersFailed.
type RequestError struct {
	Method, Path string
	Attempts     []AttemptError
	// Ctx is set when the caller's context ended the request.
	Ctx error
}

// AttemptError is one server's failure.
type AttemptError struct {
	Server string
	Err    error
}

func (e *RequestError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s failed on %d server(s)", e.Method, e.Path, len(e.Attempts))
	if e.Ctx != nil {
		fmt.Fprintf(&b, " (%v)", e.Ctx)
	}
	for i, a := range e.Attempts {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(a.Server)
		b.WriteString(": ")
		b.WriteString(a.Err.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is find ErrAllServersFailed, the context's error and
// each server's error.
func (e *RequestError) Unwrap() []error {
	out := []error{ErrAllServersFailed}
	if e.Ctx != nil {
		out = append(out, e.Ctx)
	}
	for _, a := range e.Attempts {
		out = append(out, a.Err)
	}
	return out
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
