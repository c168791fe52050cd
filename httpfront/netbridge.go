package httpfront

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"

	"github.com/sirupsen/logrus"
	"github.com/valyala/fasthttp"
)

// wireSlow serves a fasthttp request through Handler, on this goroutine:
// the net/http request is built from copies of fasthttp's bytes (handlers
// keep parameters, service names among them, long after fasthttp reuses
// its buffers), the handler writes into a buffer, and the buffer becomes
// the answer. Handlers here never stream; a Flush only marks the header
// written. A panic answers 500 (or drops the connection for
// http.ErrAbortHandler), as net/http's server would.
func (s *Server) wireSlow(ctx *fasthttp.RequestCtx) { s.serveNet(ctx, s.handler) }

// serveNet serves ctx with the net/http handler h, as wireSlow describes.
func (s *Server) serveNet(ctx *fasthttp.RequestCtx, h http.Handler) {
	r, err := netRequest(ctx)
	if err != nil {
		ctx.Response.Reset()
		wireWrite(ctx, answer{status: http.StatusBadRequest, body: []byte("bad request: " + err.Error())})
		return
	}
	w := &bufferedWriter{header: make(http.Header, 4)}
	defer func() {
		p := recover()
		if p == nil {
			w.copyTo(ctx)
			return
		}
		ctx.Response.Reset()
		if p == http.ErrAbortHandler {
			ctx.SetConnectionClose()
			return
		}
		s.log.WithFields(logrus.Fields{"panic": p, "path": r.URL.Path, "stack": string(debug.Stack())}).Error("handler panicked")
		wireWrite(ctx, answer{status: http.StatusInternalServerError, body: []byte("caused: internal error;")})
	}()
	h.ServeHTTP(w, r)
}

// netRequest is ctx's request as net/http's server would hand it over,
// sharing no memory with ctx.
func netRequest(ctx *fasthttp.RequestCtx) (*http.Request, error) {
	uri := string(ctx.RequestURI())
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, err
	}
	r := &http.Request{
		Method:     string(ctx.Method()),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, 8),
		Host:       string(ctx.Host()),
		RemoteAddr: ctx.RemoteAddr().String(),
		RequestURI: uri,
		TLS:        ctx.TLSConnectionState(),
		Body:       http.NoBody,
	}
	if !ctx.Request.Header.IsHTTP11() {
		r.Proto, r.ProtoMinor = "HTTP/1.0", 0
	}
	for k, v := range ctx.Request.Header.All() {
		if string(k) == "Transfer-Encoding" {
			continue // fasthttp has read the body already
		}
		r.Header.Add(string(k), string(v))
	}
	if body := ctx.PostBody(); len(body) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body)) // a reader copies out
		r.ContentLength = int64(len(body))
	}
	return r, nil
}

// bufferedWriter is the http.ResponseWriter of wireSlow.
type bufferedWriter struct {
	header http.Header
	status int
	body   []byte
}

func (w *bufferedWriter) Header() http.Header { return w.header }

func (w *bufferedWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *bufferedWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.body = append(w.body, b...)
	return len(b), nil
}

// Flush is http.Flusher's: the answer is sent whole at the end anyway.
func (w *bufferedWriter) Flush() { w.WriteHeader(http.StatusOK) }

// copyTo makes the buffered answer ctx's, with net/http's defaults: 200
// when nothing was written, a sniffed Content-Type for a body without one.
func (w *bufferedWriter) copyTo(ctx *fasthttp.RequestCtx) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	ctx.SetStatusCode(w.status)
	for k, vs := range w.header {
		if k == "Content-Length" {
			continue // fasthttp writes the body's length
		}
		for _, v := range vs {
			ctx.Response.Header.Add(k, v)
		}
	}
	if len(w.header["Content-Type"]) == 0 && len(w.body) > 0 {
		ctx.Response.Header.SetContentType(http.DetectContentType(w.body))
	}
	ctx.Response.SetBodyRaw(w.body)
}

// answer is the buffered response as an answer, with net/http's
// defaults: 200 when nothing was written, a sniffed Content-Type for a
// body without one.
func (w *bufferedWriter) answer() answer {
	a := answer{status: w.status, body: w.body, contentType: w.header.Get("Content-Type")}
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if a.contentType == "" && len(w.body) > 0 {
		a.contentType = http.DetectContentType(w.body)
	}
	for k, vs := range w.header {
		if k == "Content-Type" || k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			a.header = append(a.header, [2]string{k, v})
		}
	}
	return a
}
