package naming

import (
	"errors"
	"fmt"
)

// Error kinds. Every error the catalog and the writers return wraps one of
// these, so fronts translate errors with errors.Is and never by text.
var (
	// ErrInvalid: the request is malformed (HTTP 400).
	ErrInvalid = errors.New("invalid")
	// ErrNotFound: the named service, instance or namespace does not exist (HTTP 404 or 400, per endpoint).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the thing to create exists already, or a delete would
	// drop data still in use (HTTP 400, as Nacos answers).
	ErrConflict = errors.New("conflict")
	// ErrForbidden: the server mode or a switch forbids the operation (HTTP 400).
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable: the node cannot serve the request now; the client may retry (HTTP 503).
	ErrUnavailable = errors.New("unavailable")
	// ErrTooLarge: a limit on sizes or counts was reached (HTTP 413).
	ErrTooLarge = errors.New("too large")
)

// Error is an error of one kind with a message meant for the client.
type Error struct {
	Kind error
	Msg  string
}

// Errorf builds an *Error of kind with a formatted message.
func Errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string { return e.Msg }

// Unwrap lets errors.Is find the kind.
func (e *Error) Unwrap() error { return e.Kind }
