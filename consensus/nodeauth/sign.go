package nodeauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Headers of a signed request.
const (
	TimeHeader      = "X-Sextant-Time"
	NonceHeader     = "X-Sextant-Nonce"
	DigestHeader    = "X-Sextant-Body-Sha256"
	SignatureHeader = "X-Sextant-Signature"
	// FromHeader names the sender; it is signed too.
	FromHeader = "X-Sextant-From"
)

// Window is how far a request's time may lie from the receiver's clock.
const Window = 30 * time.Second

// MinSecretLen is the shortest cluster secret a member accepts.
const MinSecretLen = 16

// Sign puts the signature headers on req, whose body is body (nil for
// none), at time now. FromHeader must be set before, when it is used. An
// empty secret leaves req alone.
func Sign(req *http.Request, secret string, body []byte, now time.Time) {
	if secret == "" {
		return
	}
	var n [16]byte
	_, _ = rand.Read(n[:])
	sum := sha256.Sum256(body)
	h := req.Header
	h.Set(TimeHeader, strconv.FormatInt(now.UnixMilli(), 10))
	h.Set(NonceHeader, hex.EncodeToString(n[:]))
	h.Set(DigestHeader, hex.EncodeToString(sum[:]))
	h.Set(SignatureHeader, hex.EncodeToString(mac(secret, req.Method, req.URL.RequestURI(), h.Get)))
}

// mac is the signature of a request with the given method, URI and headers.
func mac(secret, method, uri string, get func(string) string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	for _, s := range []string{"sextant-node-1", method, uri, get(FromHeader), get(TimeHeader), get(NonceHeader), get(DigestHeader)} {
		m.Write([]byte(s))
		m.Write([]byte{'\n'})
	}
	return m.Sum(nil)
}

// Errors of CheckHeaders.
var (
	ErrUnsigned = errors.New("node-to-node request without a cluster signature")
	ErrBadSig   = errors.New("cluster signature does not match: is the cluster secret the same on every member?")
	ErrStale    = errors.New("cluster signature outside its validity window: are the members' clocks in sync?")
)

// CheckHeaders checks a request's signature headers, and nothing of its
// body: the time within Window of now, and the signature. get reads a
// header. A nil error means the sender holds the secret.
func CheckHeaders(secret, method, uri string, get func(string) string, now time.Time) error {
	sig, ts := get(SignatureHeader), get(TimeHeader)
	if sig == "" || ts == "" || len(get(NonceHeader)) != 32 || len(get(DigestHeader)) != 64 {
		return ErrUnsigned
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad %s", ErrUnsigned, TimeHeader)
	}
	if d := now.Sub(time.UnixMilli(ms)); d > Window || d < -Window {
		return ErrStale
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(secret, method, uri, get)) {
		return ErrBadSig
	}
	return nil
}
