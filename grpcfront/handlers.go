package grpcfront

import (
	"context"
	"encoding/json"
	"errors"

	"sextant/naming"
)

// unary serves /Request/request: every request is answered with a
// Payload, failures included (an ErrorResponse or the handler's own type
// with success false); nothing here panics on client input.
func (s *Server) unary(ctx context.Context, p *Payload) (out *Payload) {
	start := s.now()
	c := connOf(ctx)
	if c != nil {
		c.touch(start)
		c.probe.Store(0)
	}
	code := codeFail
	defer func() {
		if r := recover(); r != nil {
			s.log.WithField("type", p.Type).WithField("panic", r).Error("request handler panicked")
			out, code = errorPayload(codeFail, "internal error", ""), codeFail
		}
		s.observeRequest(p.Type, code, s.now().Sub(start))
	}()
	if out = s.tooLarge(p); out != nil {
		code = codeTooLarge
		return out
	}
	out, code = s.dispatch(ctx, c, p)
	return out
}

// handler answers one request type: it returns the answer's type and body.
type handler func(ctx context.Context, c *conn, p *Payload) (string, any)

// handlers lists the request types served once a connection is set up.
func (s *Server) handlers() map[string]handler {
	return map[string]handler{
		typeHealthCheck: func(_ context.Context, c *conn, _ *Payload) (string, any) {
			if c.moved.Load() {
				// Asked to move (cutoff.go): a client that checks its
				// member before it moves (nacos-sdk-go) must see it fail.
				return typeError, failResponse(codeFail, "this member is cut off from the majority of the cluster: connect to another member")
			}
			return typeHealthCheckResp, okResponse()
		},
		typeInstance:           s.instance,
		typeBatchInstance:      s.batchInstance,
		typePersistentInstance: s.persistentInstance,
		typeSubscribe:          s.subscribe,
		typeServiceQuery:       s.serviceQuery,
		typeServiceList:        s.serviceList,
	}
}

// dispatch answers one request and says its outcome (200 or the error code).
// The body of a naming request is decoded once, by its handler; others
// are read here.
func (s *Server) dispatch(ctx context.Context, c *conn, p *Payload) (*Payload, int) {
	h, known := s.table[p.Type]
	var base request
	eager := !known || p.Type == typeHealthCheck || p.Type == typeServerCheck
	if eager && len(p.Body) > 0 {
		if err := json.Unmarshal(p.Body, &base); err != nil {
			return errorPayload(codeParse, "request body does not parse: "+err.Error(), ""), codeParse
		}
	}
	// id is the requestId for a refusal; a naming request's body is
	// otherwise read by its handler only.
	id := func() string {
		if !eager {
			_ = json.Unmarshal(p.Body, &base)
		}
		return base.RequestID
	}
	if p.Type == typeServerCheck {
		if err := s.st.Ready(); err != nil {
			return errorPayload(codeStarting, "Server is starting, please try later: "+err.Error(), base.RequestID), codeStarting
		}
		if c == nil {
			return errorPayload(codeFail, "connection not tagged", base.RequestID), codeFail
		}
		return payload(typeServerCheckResp, serverCheckResponse{response: withID(okResponse(), base.RequestID), ConnectionID: c.id}), codeOK
	}
	if c == nil || !c.isSetup() {
		return errorPayload(codeUnregistered, "Connection is unregistered.", id()), codeUnregistered
	}
	if !known {
		return errorPayload(codeNoHandler, "RequestHandler Not Found: "+p.Type, id()), codeNoHandler
	}
	if p.Type != typeHealthCheck {
		counted, ok := s.load.Enter(s.cfg.MaxInFlight)
		defer s.load.Leave(counted)
		if !ok {
			return errorPayload(codeBusy, "server is busy: too many requests in flight, retry later", id()), codeBusy
		}
	}
	typ, body := h(ctx, c, p)
	code := codeOK
	if o, ok := body.(coded); ok {
		code = o.outcome()
	}
	return payload(typ, body), code
}

// errorPayload is an ErrorResponse with Nacos's codes.
func errorPayload(code int, msg, requestID string) *Payload {
	return payload(typeError, withID(failResponse(code, msg), requestID))
}

func withID(r response, id string) response {
	r.RequestID = id
	return r
}

func payload(typ string, body any) *Payload {
	return &Payload{Type: typ, Body: mustJSON(body)}
}

// mustJSON encodes the front's own answer types, which always encode.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(failResponse(codeFail, "answer does not encode: "+err.Error()))
	}
	return b
}

// errorCode maps a naming error to a Nacos error code.
func errorCode(err error) int {
	switch {
	case errors.Is(err, naming.ErrInvalid), errors.Is(err, naming.ErrConflict), errors.Is(err, naming.ErrForbidden):
		return codeBadRequest
	case errors.Is(err, naming.ErrNotFound):
		return codeNotFound
	case errors.Is(err, naming.ErrTooLarge):
		return codeTooLarge
	case errors.Is(err, naming.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return codeBusy
	}
	return codeFail
}

// failed answers a failed naming request with an ErrorResponse, so that the
// client reports the message.
func failed(err error, id string) (string, any) {
	return typeError, withID(failResponse(errorCode(err), err.Error()), id)
}

// check applies readiness and access control to a naming request: ok
// false with the refusal, of the handler's own answer type.
func (s *Server) check(p *Payload, base request, respType string, write bool) (string, any, bool) {
	if err := s.st.Ready(); err != nil {
		return respType, withID(failResponse(codeBusy, "server is not ready: "+err.Error()), base.RequestID), false
	}
	if s.access == nil || !s.access.Enabled() {
		return "", nil, true
	}
	ns := base.Namespace
	if ns == "" {
		ns = naming.DefaultNamespace
	}
	if err := s.access.Allow(p.Headers["accessToken"], ns, write); err != nil {
		code := codeForbidden
		if errors.Is(err, naming.ErrUnavailable) {
			code = codeBusy
		}
		s.stats.denied.Add(1)
		return respType, withID(failResponse(code, err.Error()), base.RequestID), false
	}
	return "", nil, true
}
