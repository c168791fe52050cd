package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"sextant/consensus/nodeauth"
)

// Headers and paths of the node-to-node HTTP API.
const (
	// FromHeader carries the sender's member address (signed).
	FromHeader = nodeauth.FromHeader
	// HashHeader carries the sender's member-list hash, 16 hex digits.
	HashHeader = "X-Sextant-Members-Hash"
	// ReportPath receives member reports (POST).
	ReportPath = "/sextant/v1/cluster/report"
	// MembersPath lists this node's view of the members (GET).
	MembersPath = "/sextant/v1/cluster/members"
)

// ErrRefused marks a report that failed because nothing listens at the peer.
var ErrRefused = errors.New("connection refused")

// HTTPConfig configures the HTTP reporter and its handler.
type HTTPConfig struct {
	// Secret, when set, signs every request (consensus/nodeauth) and is
	// required of every request received; requests without it get 401.
	Secret string
	// Scheme is "http" (default) or "https".
	Scheme string
	// DialTimeout bounds connection set-up.
	DialTimeout time.Duration
	// TLS configures the client side of https (the CA that signed the
	// peers' certificates, and a client certificate for mutual TLS).
	TLS *tls.Config
}

// DefaultHTTPConfig uses plain HTTP and a 1 s dial timeout.
func DefaultHTTPConfig() HTTPConfig {
	return HTTPConfig{Scheme: "http", DialTimeout: time.Second}
}

// Validate checks the settings.
func (c HTTPConfig) Validate() error {
	if c.Scheme != "http" && c.Scheme != "https" {
		return fmt.Errorf("cluster: scheme must be http or https, got %q", c.Scheme)
	}
	if c.DialTimeout <= 0 {
		return errors.New("cluster: dial timeout must be positive")
	}
	return nil
}

// FormatHash renders a member-list hash for HashHeader.
func FormatHash(h uint64) string { return fmt.Sprintf("%016x", h) }

// ParseHash reads a HashHeader value.
func ParseHash(s string) (uint64, error) { return strconv.ParseUint(s, 16, 64) }

// NewHTTPClient returns the client the node-to-node transports share:
// bounded dials, kept-alive connections, no redirects followed. Per-call
// deadlines come from the callers' contexts.
func NewHTTPClient(cfg HTTPConfig) *http.Client {
	d := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         dialAborting(d),
			MaxIdleConnsPerHost: 8,
			IdleConnTimeout:     60 * time.Second,
			TLSClientConfig:     cfg.TLS,
			TLSHandshakeTimeout: 5 * time.Second,
			// A peer that accepts the connection but never answers must
			// not hold a caller past its context; this bounds calls made
			// without a deadline too.
			ResponseHeaderTimeout: 30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// HTTPTransport sends reports over HTTP. It implements Transport.
type HTTPTransport struct {
	cfg    HTTPConfig
	client *http.Client
}

// NewHTTPTransport builds a reporter; a nil client gets NewHTTPClient(cfg).
func NewHTTPTransport(cfg HTTPConfig, client *http.Client) (*HTTPTransport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if client == nil {
		client = NewHTTPClient(cfg)
	}
	return &HTTPTransport{cfg: cfg, client: client}, nil
}

// reportBody is the body of a report; sender and hash travel in headers.
type reportBody struct {
	Live     []string `json:"live,omitempty"`
	Reach    []string `json:"reach,omitempty"`
	Progress uint64   `json:"progress,omitempty"`
}

// maxReportBody bounds a report body a handler reads.
const maxReportBody = 1 << 20

// Report posts a report to peer.
func (t *HTTPTransport) Report(ctx context.Context, peer string, r Report) error {
	body, err := json.Marshal(reportBody{Live: r.Live, Reach: r.Reach, Progress: r.Progress})
	if err != nil {
		return fmt.Errorf("report to %s: %w", peer, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.Scheme+"://"+peer+ReportPath, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("report to %s: %w", peer, err)
	}
	req.Header.Set("Content-Type", "application/json")
	SetHeaders(req, t.cfg.Secret, r.From, r.Hash, body)
	resp, err := t.client.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("report to %s: %w", peer, ErrRefused)
		}
		return fmt.Errorf("report to %s: %w", peer, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("report to %s: HTTP %d: %s", peer, resp.StatusCode, msg)
	}
	return nil
}

// SetHeaders puts the sender and hash headers on a request whose body is
// body, and signs it with secret.
func SetHeaders(req *http.Request, secret, self string, hash uint64, body []byte) {
	req.Header.Set(FromHeader, self)
	req.Header.Set(HashHeader, FormatHash(hash))
	nodeauth.Sign(req, secret, body, time.Now())
}
