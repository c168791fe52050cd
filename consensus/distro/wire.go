package distro

import (
	"errors"
	"net/http"

	"sextant/naming"
)

// The JSON bodies of node-to-node messages. Both transports use them, so
// the in-memory network exercises the same encoding as HTTP.

type syncBody struct {
	Records []Record `json:"records"`
}

// forwardBody carries forwarded writes; resultsBody answers each, in
// order, with null for success or the error.
type forwardBody struct {
	Ops []naming.Op `json:"ops"`
}

type resultsBody struct {
	Results []*errorBody `json:"results"`
}

func resultsToWire(errs []error) resultsBody {
	b := resultsBody{Results: make([]*errorBody, len(errs))}
	for i, err := range errs {
		if err != nil {
			_, eb := encodeError(err)
			b.Results[i] = &eb
		}
	}
	return b
}

func resultsFromWire(b resultsBody) []error {
	out := make([]error, len(b.Results))
	for i, eb := range b.Results {
		if eb != nil {
			out[i] = decodeError(*eb)
		}
	}
	return out
}

type keySum struct {
	Key naming.ServiceKey `json:"key"`
	Sum string            `json:"sum"`
}

type verifyBody struct {
	Sums []keySum `json:"sums"`
}

type keysBody struct {
	Keys []naming.ServiceKey `json:"keys"`
}

// errorBody is how a receiver's error travels back. Code refines Kind
// where the sender acts on the difference ("loading").
type errorBody struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Code    string `json:"code,omitempty"`
}

// ErrLoading is the answer of a node asked for a snapshot while it is
// still loading its own. It is also of kind naming.ErrUnavailable.
var ErrLoading = errors.New("member is loading")

type loadingError struct{ msg string }

func (e *loadingError) Error() string { return e.msg }

func (e *loadingError) Is(target error) bool {
	return target == ErrLoading || target == naming.ErrUnavailable
}

func sumsToWire(m map[naming.ServiceKey]string) verifyBody {
	b := verifyBody{Sums: make([]keySum, 0, len(m))}
	for k, s := range m {
		b.Sums = append(b.Sums, keySum{Key: k, Sum: s})
	}
	return b
}

func sumsFromWire(b verifyBody) map[naming.ServiceKey]string {
	m := make(map[naming.ServiceKey]string, len(b.Sums))
	for _, ks := range b.Sums {
		m[ks.Key] = ks.Sum
	}
	return m
}

var errorKinds = []struct {
	kind   error
	status int
}{
	{naming.ErrInvalid, http.StatusBadRequest},
	{naming.ErrNotFound, http.StatusNotFound},
	{naming.ErrConflict, http.StatusConflict},
	{naming.ErrForbidden, http.StatusForbidden},
	{naming.ErrUnavailable, http.StatusServiceUnavailable},
	{naming.ErrTooLarge, http.StatusRequestEntityTooLarge},
}

// encodeError turns a receiver's error into a status and body.
func encodeError(err error) (int, errorBody) {
	if errors.Is(err, ErrLoading) {
		return http.StatusServiceUnavailable, errorBody{Kind: naming.ErrUnavailable.Error(), Message: err.Error(), Code: "loading"}
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.kind) {
			msg := err.Error()
			var ne *naming.Error
			if errors.As(err, &ne) {
				msg = ne.Msg
			}
			return k.status, errorBody{Kind: k.kind.Error(), Message: msg}
		}
	}
	return http.StatusInternalServerError, errorBody{Message: err.Error()}
}

// decodeError rebuilds a receiver's error: a *naming.Error when the kind is
// known, nil when there is no error.
func decodeError(b errorBody) error {
	if b.Code == "loading" {
		return &loadingError{msg: b.Message}
	}
	for _, k := range errorKinds {
		if b.Kind == k.kind.Error() {
			return &naming.Error{Kind: k.kind, Msg: b.Message}
		}
	}
	return errors.New("peer error: " + b.Message)
}
