package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// maxBody bounds a response body read from a server.
const maxBody = 16 << 20

// transport sends Nacos HTTP requests to the server list with retry.
type transport struct {
	cfg     Config
	scheme  string
	servers *serverList
	http    *http.Client
	log     *logrus.Entry
	auth    *auth // nil without Username

	// lastContact is when a server last answered 2xx, Unix nanoseconds.
	lastContact atomic.Int64
}

func newTransport(cfg Config, servers *serverList, log *logrus.Entry) (*transport, error) {
	t := &transport{cfg: cfg, scheme: "http", servers: servers, log: log}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 8
	tr.ResponseHeaderTimeout = time.Duration(cfg.TimeoutMs) * time.Millisecond
	if cfg.Scheme == "https" || cfg.CAFile != "" {
		t.scheme = "https"
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("client: CA file: %w", err)
			}
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("client: CA file %s holds no PEM certificate", cfg.CAFile)
			}
			tc.RootCAs = pool
		}
		tr.TLSClientConfig = tc
	}
	t.http = &http.Client{Transport: tr}
	if cfg.Username != "" {
		t.auth = &auth{t: t, user: cfg.Username, pass: cfg.Password, now: time.Now}
	}
	return t, nil
}

// call sends one request, trying the servers in turn until one answers
// 2xx (its body is returned) or a 4xx that blames the request (returned
// as *StatusError at once). Otherwise the error is a *RequestError
// listing every server's failure.
func (t *transport) call(ctx context.Context, method, path string, params url.Values) ([]byte, error) {
	return t.roundTrip(ctx, method, path, params, true)
}

func (t *transport) roundTrip(ctx context.Context, method, path string, params url.Values, withToken bool) ([]byte, error) {
	order := t.servers.order()
	if len(order) == 0 {
		return nil, fmt.Errorf("client: %s %s: %w", method, path, ErrNoServers)
	}
	rerr := &RequestError{Method: method, Path: path}
	for _, server := range order {
		if err := ctx.Err(); err != nil {
			rerr.Ctx = err
			break
		}
		body, err := t.tryServer(ctx, server, method, path, params, withToken)
		var se *StatusError
		switch {
		case err == nil:
			t.servers.ok(server)
			t.lastContact.Store(time.Now().UnixNano())
			return body, nil
		case errors.As(err, &se) && se.ClientFault():
			t.servers.ok(server)
			return nil, se
		}
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			// The caller gave up; the server is not to blame.
			rerr.Ctx = ctx.Err()
			break
		}
		t.servers.fail(server)
		rerr.Attempts = append(rerr.Attempts, AttemptError{Server: server, Err: err})
		t.log.WithFields(logrus.Fields{"server": server, "path": path}).WithError(err).Debug("server failed, trying the next")
	}
	return nil, rerr
}

// tryServer makes the attempt at one server; with login on, a 403 makes
// it log in again and retry once.
func (t *transport) tryServer(ctx context.Context, server, method, path string, params url.Values, withToken bool) ([]byte, error) {
	token := ""
	if withToken && t.auth != nil {
		token = t.auth.token(ctx)
	}
	body, err := t.attempt(ctx, server, method, path, params, token)
	var se *StatusError
	if withToken && t.auth != nil && errors.As(err, &se) && se.Status == http.StatusForbidden {
		t.auth.invalidate(token)
		if fresh := t.auth.token(ctx); fresh != "" && fresh != token {
			body, err = t.attempt(ctx, server, method, path, params, fresh)
		}
	}
	return body, err
}

// attempt is one request to one server, bounded by TimeoutMs.
func (t *transport) attempt(ctx context.Context, server, method, path string, params url.Values, token string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(t.cfg.TimeoutMs)*time.Millisecond)
	defer cancel()
	if token != "" {
		p := make(url.Values, len(params)+1)
		for k, v := range params {
			p[k] = v
		}
		p.Set("accessToken", token)
		params = p
	}
	u := t.scheme + "://" + server + t.cfg.ContextPath + path
	var body io.Reader
	encoded := params.Encode()
	if method == http.MethodGet || method == http.MethodDelete {
		if encoded != "" {
			u += "?" + encoded
		}
	} else {
		body = strings.NewReader(encoded)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	h.Set("User-Agent", t.cfg.UserAgent)
	h.Set("Client-Version", t.cfg.UserAgent)
	h.Set("Request-Module", "Naming")
	h.Set("RequestId", requestID())
	resp, err := t.http.Do(req)
	if err != nil {
		return nil, simplifyNetErr(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", simplifyNetErr(err))
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("answer larger than %d bytes", maxBody)
	}
	if resp.StatusCode/100 != 2 {
		return nil, &StatusError{Server: server, Status: resp.StatusCode, Body: string(bytes.TrimSpace(b))}
	}
	return b, nil
}

// simplifyNetErr drops the URL from a *url.Error: the aggregated error
// already names the server and path.
func simplifyNetErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		var oe *net.OpError
		if errors.As(ue.Err, &oe) && oe.Err != nil {
			return fmt.Errorf("%s: %w", oe.Op, oe.Err)
		}
		return ue.Err
	}
	return err
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// LastContact returns when a server last answered successfully (zero if
// none has yet).
func (t *transport) LastContact() time.Time {
	n := t.lastContact.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
