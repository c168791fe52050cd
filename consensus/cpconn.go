package consensus

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// forwardConns sends forwards over kept-alive HTTP/1.1 connections to the
// leaders, one request at a time on a connection, written and read in the
// caller's goroutine. net/http's client runs a reader and a writer
// goroutine per connection and hands each request and answer across them:
// on a forward of a few hundred bytes those hand-offs cost more CPU than
// the request itself. Plain HTTP only; HTTPS forwards go through net/http.
type forwardConns struct {
	mu   sync.Mutex
	idle map[string][]*fwdConn
	dial net.Dialer
}

type fwdConn struct {
	c      net.Conn
	w      countingWriter
	br     *bufio.Reader
	bw     *bufio.Writer
	parked time.Time
}

// countingWriter counts the bytes handed to the connection, so a failed
// request knows whether any of it left.
type countingWriter struct {
	c net.Conn
	n int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.c.Write(p)
	w.n += int64(n)
	return n, err
}

const (
	// maxIdleConns is how many idle connections are kept per leader.
	maxIdleConns = 8
	// maxIdleAge is how long an idle connection is kept: well below the
	// HTTP front's 90 s idle timeout, so a leader rarely closes one under
	// a forward.
	maxIdleAge = 30 * time.Second
)

// take returns an idle connection to addr that is still open, or dials one.
func (p *forwardConns) take(ctx context.Context, addr string) (*fwdConn, error) {
	now := time.Now()
	for {
		p.mu.Lock()
		list := p.idle[addr]
		var fc *fwdConn
		if n := len(list); n > 0 {
			fc = list[n-1]
			list[n-1] = nil
			p.idle[addr] = list[:n-1]
		}
		p.mu.Unlock()
		if fc == nil {
			break
		}
		if now.Sub(fc.parked) < maxIdleAge && fc.br.Buffered() == 0 && alive(fc.c) {
			return fc, nil
		}
		_ = fc.c.Close()
	}
	c, err := p.dial.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	fc := &fwdConn{c: c, w: countingWriter{c: c}, br: bufio.NewReaderSize(c, 4096)}
	fc.bw = bufio.NewWriterSize(&fc.w, 4096)
	return fc, nil
}

// park keeps fc for the next request to addr.
func (p *forwardConns) park(addr string, fc *fwdConn) {
	fc.parked = time.Now()
	p.mu.Lock()
	if p.idle == nil {
		p.idle = map[string][]*fwdConn{}
	}
	if len(p.idle[addr]) < maxIdleConns {
		p.idle[addr] = append(p.idle[addr], fc)
		fc = nil
	}
	p.mu.Unlock()
	if fc != nil {
		_ = fc.c.Close()
	}
}

// do sends req (whose body is body) to addr and returns the answer with its
// body read (at most limit bytes), bounded by ctx. sent reports whether
// the request may have reached the leader: false only when it failed
// before a byte was written.
func (p *forwardConns) do(ctx context.Context, addr string, req *http.Request, body []byte, limit int64) (resp *http.Response, b []byte, sent bool, err error) {
	fc, err := p.take(ctx, addr)
	if err != nil {
		return nil, nil, false, err
	}
	d, _ := ctx.Deadline()
	_ = fc.c.SetDeadline(d)
	stop := context.AfterFunc(ctx, func() { _ = fc.c.SetDeadline(time.Unix(1, 0)) })
	keep := false
	defer func() {
		if stop() && keep {
			_ = fc.c.SetDeadline(time.Time{})
			p.park(addr, fc)
			return
		}
		_ = fc.c.Close()
	}()
	fc.w.n = 0
	req.ContentLength = int64(len(body))
	req.Body = io.NopCloser(bytes.NewReader(body))
	if err := req.Write(fc.bw); err != nil {
		fc.bw.Reset(&fc.w)
		return nil, nil, fc.w.n > 0, err
	}
	if err := fc.bw.Flush(); err != nil {
		return nil, nil, fc.w.n > 0, err
	}
	resp, err = http.ReadResponse(fc.br, req)
	if err != nil {
		return nil, nil, true, err
	}
	b, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, true, err
	}
	if int64(len(b)) > limit {
		return nil, nil, true, errors.New("answer larger than expected")
	}
	keep = !resp.Close && ctx.Err() == nil
	return resp, b, true, nil
}
