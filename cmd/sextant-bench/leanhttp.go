package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"
	"time"
)

// leanConn is a minimal HTTP/1.1 client on one keep-alive connection to
// one address, for load generators whose own CPU per request must stay
// far below the servers' (net/http's client costs tens of microseconds a
// request, on the same cores as the servers under test). The request is
// built into a reused buffer and the response parsed from a bufio.Reader:
// status line, headers, then a body framed by Content-Length, chunked
// transfer coding, or the end of the connection.
//
// A leanConn is not safe for concurrent use: one per worker goroutine.
type leanConn struct {
	addr    string
	ua      string        // User-Agent sent
	timeout time.Duration // bound of one request, dial included
	dialer  net.Dialer

	conn net.Conn // nil: dial on the next request
	br   *bufio.Reader
	req  []byte // the request being sent, reused
	body []byte // the last response's body, reused
	// dials counts the connections opened.
	dials int
}

// leanUserAgent is what net/http's client sends when none is set, so the
// servers see the same requests as from httpDo.
const leanUserAgent = "Go-http-client/1.1"

// leanMaxBody bounds a response body.
const leanMaxBody = 64 << 20

// newLeanConn returns a client of addr (host:port) whose requests each
// take at most timeout. It connects on its first request.
func newLeanConn(addr string, timeout time.Duration) *leanConn {
	return &leanConn{
		addr:    addr,
		ua:      leanUserAgent,
		timeout: timeout,
		dialer:  net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second},
		req:     make([]byte, 0, 1024),
		body:    make([]byte, 0, 1024),
	}
}

// Close closes the connection, if any. It may be called more than once;
// a later request connects again.
func (c *leanConn) Close() error {
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

// do sends one request and returns the status code and body, as httpDo
// does. form, when not nil, is the request's body, an
// application/x-www-form-urlencoded form already encoded. The returned
// body is valid until the next call. On any error the connection is
// dropped and the next request opens a new one; a request that found its
// reused connection closed by the server before any answer is sent once
// more on a new connection (a keep-alive client's usual retry).
func (c *leanConn) do(ctx context.Context, method, path string, form []byte) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	c.req = c.appendRequest(c.req[:0], method, path, form)
	reused := c.conn != nil
	code, body, err := c.roundTrip(ctx, method)
	if err != nil && reused && errors.Is(err, errLeanNoAnswer) && ctx.Err() == nil {
		code, body, err = c.roundTrip(ctx, method)
	}
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		}
		if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
			// The connection's deadline was the context's, met just
			// before the context noticed.
			return 0, nil, fmt.Errorf("%s %s: %w", method, path, context.DeadlineExceeded)
		}
		return 0, nil, fmt.Errorf("%s http://%s%s: %w", method, c.addr, path, err)
	}
	return code, body, nil
}

// appendRequest appends the request's bytes, with the headers net/http's
// client sends in the same order: Host, User-Agent, Content-Length,
// Content-Type.
func (c *leanConn) appendRequest(b []byte, method, path string, form []byte) []byte {
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, c.addr...)
	if c.ua != "" {
		b = append(b, "\r\nUser-Agent: "...)
		b = append(b, c.ua...)
	}
	switch {
	case form != nil:
		b = append(b, "\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(form)), 10)
		b = append(b, "\r\nContent-Type: application/x-www-form-urlencoded"...)
	case method == "POST" || method == "PUT" || method == "PATCH":
		b = append(b, "\r\nContent-Length: 0"...)
	}
	b = append(b, "\r\n\r\n"...)
	return append(b, form...)
}

// errLeanNoAnswer marks a connection that failed before any byte of the
// answer came: the server may have closed it while it was idle.
var errLeanNoAnswer = errors.New("connection closed before an answer")

// roundTrip sends c.req and reads the answer, on the open connection or a
// new one. On error the connection is closed.
func (c *leanConn) roundTrip(ctx context.Context, method string) (code int, body []byte, err error) {
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if c.conn == nil {
		dctx, cancel := context.WithDeadline(ctx, deadline)
		conn, err := c.dialer.DialContext(dctx, "tcp", c.addr)
		cancel()
		if err != nil {
			return 0, nil, err
		}
		c.dials++
		c.conn = conn
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, 4096)
		} else {
			c.br.Reset(conn)
		}
	}
	conn := c.conn
	if err := conn.SetDeadline(deadline); err != nil {
		c.Close()
		return 0, nil, err
	}
	// A cancelled context ends the request at once, not at the deadline.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		if !stop() {
			// The deadline was moved to the past: the connection is spent.
			c.Close()
		}
	}()

	if _, err := conn.Write(c.req); err != nil {
		c.Close()
		if isClosedByPeer(err) {
			err = fmt.Errorf("%w: %v", errLeanNoAnswer, err)
		}
		return 0, nil, err
	}
	if _, err := c.br.Peek(1); err != nil {
		c.Close()
		if isClosedByPeer(err) {
			err = fmt.Errorf("%w: %v", errLeanNoAnswer, err)
		}
		return 0, nil, err
	}
	code, keep, err := c.readResponse(method)
	if err != nil || !keep {
		c.Close()
	}
	if err != nil {
		return 0, nil, err
	}
	return code, c.body, nil
}

// isClosedByPeer tells a connection the server closed or reset.
func isClosedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// readResponse reads one answer (after any 1xx interim ones) into c.body
// and tells whether the connection may carry the next request.
func (c *leanConn) readResponse(method string) (code int, keep bool, err error) {
	for {
		var (
			length  int64 = -1
			chunked bool
		)
		line, err := c.readLine()
		if err != nil {
			return 0, false, err
		}
		code, keep, err = parseStatusLine(line)
		if err != nil {
			return 0, false, err
		}
		for {
			line, err := c.readLine()
			if err != nil {
				return 0, false, err
			}
			if len(line) == 0 {
				break
			}
			name, value, ok := bytes.Cut(line, []byte(":"))
			if !ok {
				return 0, false, fmt.Errorf("malformed header line %q", line)
			}
			value = bytes.TrimSpace(value)
			switch {
			case bytes.EqualFold(name, []byte("Content-Length")):
				n, ok := parseDecimal(value)
				if !ok || (length >= 0 && n != length) {
					return 0, false, fmt.Errorf("bad Content-Length %q", value)
				}
				length = n
			case bytes.EqualFold(name, []byte("Transfer-Encoding")):
				if !bytes.EqualFold(value, []byte("chunked")) || chunked {
					return 0, false, fmt.Errorf("unsupported Transfer-Encoding %q", value)
				}
				chunked = true
			case bytes.EqualFold(name, []byte("Connection")):
				for _, tok := range bytes.Split(value, []byte(",")) {
					tok = bytes.TrimSpace(tok)
					switch {
					case bytes.EqualFold(tok, []byte("close")):
						keep = false
					case bytes.EqualFold(tok, []byte("keep-alive")):
						keep = true
					}
				}
			}
		}
		switch {
		case code == 101:
			return 0, false, errors.New("unexpected 101 Switching Protocols")
		case code >= 100 && code < 200:
			continue // interim answer: the final one follows
		}
		c.body = c.body[:0]
		switch {
		case method == "HEAD" || code == 204 || code == 304:
		case chunked:
			err = c.readChunked()
		case length >= 0:
			err = c.readBody(length)
		default:
			// No framing: the body ends with the connection.
			keep = false
			err = c.readToEOF()
		}
		return code, keep, err
	}
}

// readLine returns the next line without its CRLF (or LF); the slice is
// valid until the next read.
func (c *leanConn) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errors.New("header line too long")
		}
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// parseStatusLine reads "HTTP/1.x NNN reason". keep is the protocol
// version's default persistence.
func parseStatusLine(line []byte) (code int, keep bool, err error) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	n, ok := parseDecimal(line[9:12])
	if !ok || n < 100 {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	return int(n), line[7] == '1', nil
}

// parseDecimal reads a non-negative decimal number of at most 18 digits.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int64(ch-'0')
	}
	return n, true
}

// parseHex reads a chunk size: at most 15 hexadecimal digits.
func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, ch := range b {
		var d byte
		switch {
		case ch >= '0' && ch <= '9':
			d = ch - '0'
		case ch >= 'a' && ch <= 'f':
			d = ch - 'a' + 10
		case ch >= 'A' && ch <= 'F':
			d = ch - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

// readBody appends n bytes to c.body.
func (c *leanConn) readBody(n int64) error {
	if int64(len(c.body))+n > leanMaxBody {
		return fmt.Errorf("response body over %d bytes", leanMaxBody)
	}
	start := len(c.body)
	c.body = growLen(c.body, int(n))
	_, err := io.ReadFull(c.br, c.body[start:])
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// readChunked reads a chunked body (RFC 9112 §7.1) into c.body, trailers
// skipped.
func (c *leanConn) readChunked() error {
	for {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // chunk extensions
		}
		size, ok := parseHex(bytes.TrimSpace(line))
		if !ok {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			for {
				line, err := c.readLine()
				if err != nil {
					return err
				}
				if len(line) == 0 {
					return nil
				}
			}
		}
		if err := c.readBody(size); err != nil {
			return err
		}
		line, err = c.readLine()
		if err != nil {
			return err
		}
		if len(line) != 0 {
			return errors.New("chunk not followed by CRLF")
		}
	}
}

// readToEOF reads the rest of the connection into c.body.
func (c *leanConn) readToEOF() error {
	for {
		if len(c.body) >= leanMaxBody {
			return fmt.Errorf("response body over %d bytes", leanMaxBody)
		}
		if len(c.body) == cap(c.body) {
			c.body = append(c.body, 0)[:len(c.body)]
		}
		n, err := c.br.Read(c.body[len(c.body):cap(c.body)])
		c.body = c.body[:len(c.body)+n]
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// growLen extends b by n bytes, reallocating when its capacity is short.
func growLen(b []byte, n int) []byte {
	if len(b)+n <= cap(b) {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, 2*(len(b)+n))
	copy(nb, b)
	return nb
}

// appendQueryEscape appends s escaped as url.QueryEscape does: letters,
// digits and -_.~ as they are, space as +, every other byte as %XX.
func appendQueryEscape(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9', ch == '-', ch == '_', ch == '.', ch == '~':
			b = append(b, ch)
		case ch == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[ch>>4], hex[ch&15])
		}
	}
	return b
}
