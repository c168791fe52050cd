package healthcheck

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"

	"sextant/naming"
)

// maxProbeBody is how much of a response body an HTTP probe reads before
// closing; the status line decides the result.
const maxProbeBody = 4 << 10

// HTTPProber passes when GET http://addr/path answers a status in
// Target.Codes (200 when empty) within the timeout. Redirects are not
// followed (a 302 is judged as a 302), no proxy is used, and every probe opens
// its own connection, so a probe checks that the instance still accepts
// connections.
type HTTPProber struct {
	client *http.Client
}

// NewHTTPProber builds an HTTP prober that probes any address.
func NewHTTPProber() *HTTPProber { return newHTTPProber(true) }

// newHTTPProber builds an HTTP prober; without allowInternal, loopback,
// link-local and metadata addresses fail without a packet sent.
func newHTTPProber(allowInternal bool) *HTTPProber {
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer(allowInternal).DialContext,
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 16 << 10,
	}
	return &HTTPProber{client: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Probe sends one GET to the target.
func (p *HTTPProber) Probe(ctx context.Context, t Target) Result {
	path := t.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.Addr+path, nil)
	if err != nil {
		return Result{Reason: "bad health check url: " + err.Error()}
	}
	req.Header.Set("User-Agent", "Sextant-Health-Check")
	for _, h := range t.Headers {
		if naming.ReservedCheckHeader(h.Name) {
			continue // refused when stored; never sent if one slipped in
		}
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return failure(ctx, err, t.Timeout)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxProbeBody))
	_ = resp.Body.Close()
	codes := t.Codes
	reason := "HTTP " + strconv.Itoa(resp.StatusCode)
	if len(codes) == 0 {
		return Result{OK: resp.StatusCode == http.StatusOK, Reason: reason}
	}
	return Result{OK: codes.Match(resp.StatusCode), Reason: reason}
}
