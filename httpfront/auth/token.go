package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// claims is a token's payload.
type claims struct {
	Sub string `json:"sub"`
	Exp int64  `json:"exp"`
	// Pv is a digest of the user's password hash when the token was made;
	// a password change makes older tokens invalid.
	Pv string `json:"pv"`
}

// jwtHeader is the fixed header of every token: HMAC-SHA256.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

var (
	errTokenInvalid = errors.New("token invalid")
	errTokenExpired = errors.New("token expired")
)

// hashDigest names a password hash without revealing it.
func hashDigest(hash string) string {
	s := sha256.Sum256([]byte(hash))
	return hex.EncodeToString(s[:6])
}

// signToken makes a token for c.
func signToken(secret []byte, c claims) string {
	body, _ := json.Marshal(c)
	msg := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(body)
	return msg + "." + base64.RawURLEncoding.EncodeToString(mac(secret, msg))
}

func mac(secret []byte, msg string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// parseToken checks a token's form, signature and expiry, and returns its
// claims. It never panics on any input.
func parseToken(secret []byte, tok string, now time.Time) (claims, error) {
	var c claims
	if len(tok) > 4096 {
		return c, errTokenInvalid
	}
	head, rest, ok := strings.Cut(tok, ".")
	if !ok || head != jwtHeader {
		return c, errTokenInvalid
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return c, errTokenInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(secret, head+"."+payload)) {
		return c, errTokenInvalid
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(body, &c) != nil || c.Sub == "" {
		return claims{}, errTokenInvalid
	}
	if now.Unix() >= c.Exp {
		return c, errTokenExpired
	}
	return c, nil
}
