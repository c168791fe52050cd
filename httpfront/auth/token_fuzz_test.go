package auth

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseToken: any string is refused or accepted without panicking,
// and an accepted one was signed with the secret.
func FuzzParseToken(f *testing.F) {
	secret := []byte(strings.Repeat("s", 32))
	good := signToken(secret, claims{Sub: "nacos", Exp: 2_000_000_000, Pv: "abc"})
	for _, s := range []string{good, "", ".", jwtHeader + ".e30.", good[:len(good)-1], "Bearer " + good} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := parseToken(secret, tok, time.Unix(1_700_000_000, 0))
		if err != nil {
			return
		}
		if signToken(secret, c) == "" || c.Sub == "" {
			t.Fatalf("accepted %q with claims %+v", tok, c)
		}
	})
}
