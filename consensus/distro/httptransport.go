package distro

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"sextant/consensus/cluster"
	"sextant/naming"
)

// Paths of the distro HTTP API. All take and return JSON; the two hot
// ones also take the compact encoding (codec.go).
const (
	PathPrefix  = "/sextant/v1/distro/"
	ForwardPath = PathPrefix + "forward"       // POST naming.Op → 204
	BatchPath   = PathPrefix + "forward-batch" // POST {"ops"} → {"results"}
	SyncPath    = PathPrefix + "sync"          // POST {"records"} → 204
	// CompactSyncPath takes the records of SyncPath in the compact
	// encoding (or JSON); BatchPath takes either too. Both answer in the
	// encoding of the request.
	CompactSyncPath = PathPrefix + "sync-compact"
	// RelayPath takes the records of CompactSyncPath for the member named
	// by its query parameter "to" (signed with the path), to whom the
	// receiver sends them as its own sync.
	RelayPath = PathPrefix + "relay-sync"
	// RelayForwardPath takes the writes of BatchPath for the member named
	// by "to", to whom the receiver forwards them, answering with that
	// member's answers.
	RelayForwardPath = PathPrefix + "relay-forward"
	VerifyPath       = PathPrefix + "verify"   // POST {"sums"} → {"keys"}
	FetchPath        = PathPrefix + "fetch"    // POST {"keys"} → {"records"}
	SnapshotPath     = PathPrefix + "snapshot" // GET → {"records"}
)

// HTTPConfig configures the HTTP transport and handler.
type HTTPConfig struct {
	// Secret, when set, signs every request (consensus/nodeauth) and is
	// required of every request received; unsigned requests get 401.
	Secret string
	// Scheme is "http" (default) or "https".
	Scheme string
	// DialTimeout bounds connection set-up.
	DialTimeout time.Duration
	// MaxBody bounds a request body the handler reads (413 beyond it).
	MaxBody int64
	// MaxResponse bounds a response body the client reads (snapshots are
	// the largest).
	MaxResponse int64
}

// DefaultHTTPConfig accepts bodies up to 64 MiB and answers up to 1 GiB.
func DefaultHTTPConfig() HTTPConfig {
	return HTTPConfig{Scheme: "http", DialTimeout: time.Second, MaxBody: 64 << 20, MaxResponse: 1 << 30}
}

// Validate checks the settings.
func (c HTTPConfig) Validate() error {
	if c.Scheme != "http" && c.Scheme != "https" {
		return fmt.Errorf("distro: scheme must be http or https, got %q", c.Scheme)
	}
	if c.DialTimeout <= 0 || c.MaxBody <= 0 || c.MaxResponse <= 0 {
		return errors.New("distro: dial timeout and size limits must be positive")
	}
	return nil
}

// HTTPTransport sends distro messages over HTTP. It implements Transport.
type HTTPTransport struct {
	cfg    HTTPConfig
	self   string
	client *http.Client
}

// NewHTTPTransport builds the client side for the node at self; a nil
// client gets cluster.NewHTTPClient. Deadlines come from the callers'
// contexts (the engine bounds every call).
func NewHTTPTransport(cfg HTTPConfig, self string, client *http.Client) (*HTTPTransport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if self == "" {
		return nil, errors.New("distro: the transport needs this node's address")
	}
	if client == nil {
		client = cluster.NewHTTPClient(cluster.HTTPConfig{Scheme: cfg.Scheme, DialTimeout: cfg.DialTimeout})
	}
	return &HTTPTransport{cfg: cfg, self: self, client: client}, nil
}

var _ Transport = (*HTTPTransport)(nil)

// Forward asks peer to apply one write (the message of nodes that do not
// serve BatchPath).
func (t *HTTPTransport) Forward(ctx context.Context, peer string, hash uint64, op naming.Op) error {
	return t.call(ctx, http.MethodPost, peer, ForwardPath, hash, op, nil)
}

// ForwardBatch sends ops in one message, in the compact encoding. A peer
// that does not serve BatchPath (an older version) gets them one by one,
// concurrently.
func (t *HTTPTransport) ForwardBatch(ctx context.Context, peer string, hash uint64, ops []naming.Op) ([]error, error) {
	errs, err := t.batch(ctx, peer, BatchPath, hash, ops)
	if errors.Is(err, errNoRoute) {
		return t.forwardEach(ctx, peer, hash, ops), nil
	}
	return errs, err
}

// RelayForward sends ops to via, for peer, as ForwardBatch sends them. A
// via of an older version, which does not serve RelayForwardPath, fails it.
func (t *HTTPTransport) RelayForward(ctx context.Context, via, peer string, hash uint64, ops []naming.Op) ([]error, error) {
	return t.batch(ctx, via, RelayForwardPath+"?"+url.Values{"to": {peer}}.Encode(), hash, ops)
}

// batch posts ops to path on peer and reads one answer per op.
func (t *HTTPTransport) batch(ctx context.Context, peer, path string, hash uint64, ops []naming.Op) ([]error, error) {
	var data []byte
	var ctype string
	body, err := appendOps(nil, ops)
	if err == nil {
		data, ctype, err = t.send(ctx, http.MethodPost, peer, path, hash, CompactType, body)
	} else {
		body, err = json.Marshal(forwardBody{Ops: ops})
		if err != nil {
			return nil, fmt.Errorf("distro: encode for %s: %w", peer, err)
		}
		data, ctype, err = t.send(ctx, http.MethodPost, peer, path, hash, "application/json", body)
	}
	if err != nil {
		return nil, err
	}
	var errs []error
	if ctype == CompactType {
		errs, err = decodeResults(data)
	} else {
		var out resultsBody
		if err = json.Unmarshal(data, &out); err == nil {
			errs = resultsFromWire(out)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("distro: decode answer of %s: %w", peer, err)
	}
	return errs, nil
}

func (t *HTTPTransport) forwardEach(ctx context.Context, peer string, hash uint64, ops []naming.Op) []error {
	errs := make([]error, len(ops))
	var wg sync.WaitGroup
	for i := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = t.Forward(ctx, peer, hash, ops[i])
		}()
	}
	wg.Wait()
	return errs
}

// errNoRoute: the peer answered 404 without an error body, so it does not
// serve the path.
var errNoRoute = errors.New("distro: path not served by the peer")

// Sync sends records in the compact encoding; a peer that does not serve
// CompactSyncPath, or does not read this version of it (older versions),
// gets them as JSON, whose fields it does not know it ignores.
func (t *HTTPTransport) Sync(ctx context.Context, peer string, hash uint64, recs []Record) error {
	_, _, err := t.send(ctx, http.MethodPost, peer, CompactSyncPath, hash, CompactType, appendRecords(nil, recs))
	if errors.Is(err, errNoRoute) || errors.Is(err, naming.ErrInvalid) && strings.Contains(err.Error(), errUnknownVersion) {
		return t.call(ctx, http.MethodPost, peer, SyncPath, hash, syncBody{Records: recs}, nil)
	}
	return err
}

// Relay sends records in the compact encoding to via, for peer. A via of
// an older version, which does not serve RelayPath, fails it.
func (t *HTTPTransport) Relay(ctx context.Context, via, peer string, hash uint64, recs []Record) error {
	path := RelayPath + "?" + url.Values{"to": {peer}}.Encode()
	_, _, err := t.send(ctx, http.MethodPost, via, path, hash, CompactType, appendRecords(nil, recs))
	return err
}

func (t *HTTPTransport) Verify(ctx context.Context, peer string, hash uint64, sums map[naming.ServiceKey]string) ([]naming.ServiceKey, error) {
	var out keysBody
	err := t.call(ctx, http.MethodPost, peer, VerifyPath, hash, sumsToWire(sums), &out)
	return out.Keys, err
}

func (t *HTTPTransport) Fetch(ctx context.Context, peer string, hash uint64, keys []naming.ServiceKey) ([]Record, error) {
	var out syncBody
	err := t.call(ctx, http.MethodPost, peer, FetchPath, hash, keysBody{Keys: keys}, &out)
	return out.Records, err
}

func (t *HTTPTransport) Snapshot(ctx context.Context, peer string) ([]Record, error) {
	var out syncBody
	err := t.call(ctx, http.MethodGet, peer, SnapshotPath, 0, nil, &out)
	return out.Records, err
}

// call sends one request with a JSON body (none when in is nil) and
// decodes a JSON answer into out.
func (t *HTTPTransport) call(ctx context.Context, method, peer, path string, hash uint64, in, out any) error {
	var body []byte
	ctype := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("distro: encode for %s: %w", peer, err)
		}
		body, ctype = b, "application/json"
	}
	data, _, err := t.send(ctx, method, peer, path, hash, ctype, body)
	if err != nil || out == nil || data == nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("distro: decode answer of %s: %w", peer, err)
	}
	return nil
}

// send sends one request and returns the answer's body (nil for 204) and
// Content-Type. A non-2xx answer with an error body becomes a
// *naming.Error of the same kind; transport failures are plain errors
// (wrapping cluster.ErrRefused when nothing listens, errNoRoute when the
// peer does not serve the path).
func (t *HTTPTransport) send(ctx context.Context, method, peer, path string, hash uint64, ctype string, in []byte) ([]byte, string, error) {
	var body io.Reader
	if in != nil {
		body = bytes.NewReader(in)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.cfg.Scheme+"://"+peer+path, body)
	if err != nil {
		return nil, "", fmt.Errorf("distro: %s: %w", peer, err)
	}
	cluster.SetHeaders(req, t.cfg.Secret, t.self, hash, in)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, "", fmt.Errorf("distro: %s: %w", peer, cluster.ErrRefused)
		}
		return nil, "", fmt.Errorf("distro: %s: %w", peer, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, t.cfg.MaxResponse+1))
	if err != nil {
		return nil, "", fmt.Errorf("distro: read answer of %s: %w", peer, err)
	}
	if int64(len(data)) > t.cfg.MaxResponse {
		return nil, "", fmt.Errorf("distro: answer of %s is larger than %d bytes", peer, t.cfg.MaxResponse)
	}
	if resp.StatusCode/100 != 2 {
		var eb errorBody
		if json.Unmarshal(data, &eb) == nil && eb.Kind != "" {
			return nil, "", decodeError(eb)
		}
		if resp.StatusCode == http.StatusNotFound {
			return nil, "", fmt.Errorf("%w: %s answered HTTP 404 for %s", errNoRoute, peer, path)
		}
		return nil, "", fmt.Errorf("distro: %s answered HTTP %d: %.200s", peer, resp.StatusCode, data)
	}
	if resp.StatusCode == http.StatusNoContent {
		return nil, "", nil
	}
	return data, resp.Header.Get("Content-Type"), nil
}
