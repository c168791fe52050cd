package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"sextant/naming"
)

// catalogWriter applies ops straight to a catalog, as a lone node does.
type catalogWriter struct {
	cat *naming.Catalog
	mu  sync.Mutex
	ops []naming.Op
}

func (w *catalogWriter) Apply(_ context.Context, op naming.Op) error {
	w.mu.Lock()
	w.ops = append(w.ops, op)
	w.mu.Unlock()
	return w.cat.Apply(op)
}

func (w *catalogWriter) Owns(naming.ServiceKey) bool { return true }

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func testGuard(t *testing.T, mutate func(*Config)) (*Guard, *naming.Catalog, *clock) {
	t.Helper()
	cat := naming.NewCatalog()
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	cfg := DefaultConfig()
	cfg.Enabled = true
	cfg.BcryptCost = bcrypt.MinCost
	cfg.DataDir = t.TempDir()
	cfg.AdminPassword = "admin-pass-1"
	cfg.Now = clk.now
	if mutate != nil {
		mutate(&cfg)
	}
	g, err := New(cfg, cat, &catalogWriter{cat: cat}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	waitUntil(t, func() bool { return g.src.Auth().Initialized })
	return g, cat, clk
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func addUser(t *testing.T, g *Guard, cat *naming.Catalog, name, pw string) {
	t.Helper()
	h, err := g.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Apply(naming.Op{Kind: naming.OpCreateUser, User: &naming.User{Name: name, Hash: h}}); err != nil {
		t.Fatal(err)
	}
}

func deniedWith(t *testing.T, err error, msg string) {
	t.Helper()
	if !errors.Is(err, ErrDenied) || err.Error() != msg {
		t.Fatalf("want denial %q, got %v", msg, err)
	}
}

func TestLoginAndToken(t *testing.T) {
	g, cat, clk := testGuard(t, nil)
	s, err := g.Login("nacos", "admin-pass-1", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if !s.GlobalAdmin || s.TTL != 18000*time.Second || strings.Count(s.Token, ".") != 2 {
		t.Fatalf("session %+v", s)
	}
	_, err = g.Login("nacos", "wrong", "127.0.0.1")
	deniedWith(t, err, "unknown user!")
	_, err = g.Login("nobody", "x", "127.0.0.1")
	deniedWith(t, err, "unknown user!")

	id, err := g.Check(Credentials{AccessToken: s.Token}, "public", Write)
	if err != nil || id.Username != "nacos" || !id.Admin {
		t.Fatalf("token check: %+v %v", id, err)
	}
	if _, err := g.Check(Credentials{Bearer: s.Token}, "any", Admin); err != nil {
		t.Fatalf("bearer: %v", err)
	}
	_, err = g.Check(Credentials{}, "public", Read)
	deniedWith(t, err, "user not found!")
	_, err = g.Check(Credentials{AccessToken: s.Token[:len(s.Token)-2] + "xx"}, "public", Read)
	deniedWith(t, err, "token invalid!")
	_, err = g.Check(Credentials{AccessToken: "garbage"}, "public", Read)
	deniedWith(t, err, "token invalid!")

	// A password change makes older tokens invalid.
	addUser(t, g, cat, "bob", "bob-pass-1")
	bs, err := g.Login("bob", "bob-pass-1", "127.0.0.1")
	if err != nil || bs.GlobalAdmin {
		t.Fatalf("bob login: %+v %v", bs, err)
	}
	if _, err := g.Identify(Credentials{AccessToken: bs.Token}); err != nil {
		t.Fatal(err)
	}
	h, _ := g.HashPassword("bob-pass-2")
	if err := cat.Apply(naming.Op{Kind: naming.OpUpdateUser, User: &naming.User{Name: "bob", Hash: h}}); err != nil {
		t.Fatal(err)
	}
	_, err = g.Identify(Credentials{AccessToken: bs.Token})
	deniedWith(t, err, "token invalid!")

	// Expiry.
	clk.t = clk.t.Add(18000 * time.Second)
	_, err = g.Identify(Credentials{AccessToken: s.Token})
	deniedWith(t, err, "token expired!")

	// A token signed with another secret is refused.
	other, _, _ := testGuard(t, func(c *Config) { c.TokenSecret = strings.Repeat("k", 40) })
	os, _ := other.Login("nacos", "admin-pass-1", "127.0.0.1")
	_, err = g.Identify(Credentials{AccessToken: os.Token})
	deniedWith(t, err, "token invalid!")
}

func TestPermissions(t *testing.T) {
	g, cat, _ := testGuard(t, nil)
	addUser(t, g, cat, "reader", "reader-pass")
	addUser(t, g, cat, "writer", "writer-pass")
	for _, op := range []naming.Op{
		{Kind: naming.OpAddRole, Role: &naming.RoleBinding{Role: "ro", Username: "reader"}},
		{Kind: naming.OpAddRole, Role: &naming.RoleBinding{Role: "rw-dev", Username: "writer"}},
		{Kind: naming.OpAddPermission, Permission: &naming.Permission{Role: "ro", Resource: "*", Action: "r"}},
		{Kind: naming.OpAddPermission, Permission: &naming.Permission{Role: "rw-dev", Resource: "dev:*:*", Action: "rw"}},
	} {
		if err := cat.Apply(op); err != nil {
			t.Fatal(err)
		}
	}
	rd := Credentials{Username: "reader", Password: "reader-pass"}
	wr := Credentials{Username: "writer", Password: "writer-pass"}
	cases := []struct {
		cred Credentials
		ns   string
		act  Action
		ok   bool
	}{
		{rd, "public", Read, true}, {rd, "dev", Read, true}, {rd, "public", Write, false},
		{wr, "dev", Read, true}, {wr, "dev", Write, true}, {wr, "public", Read, false}, {wr, "", Write, false},
		{wr, "dev", Admin, false}, {rd, "x", Authenticated, true},
		{Credentials{Username: "reader", Password: "bad"}, "public", Read, false},
	}
	for i, c := range cases {
		_, err := g.Check(c.cred, c.ns, c.act)
		if (err == nil) != c.ok {
			t.Errorf("case %d (%s on %q, %d): err %v", i, c.cred.Username, c.ns, c.act, err)
		}
		if err != nil && !errors.Is(err, ErrDenied) {
			t.Errorf("case %d: %v is not a denial", i, err)
		}
	}
	// Off: everything passes.
	g.cfg.Enabled = false
	if _, err := g.Check(Credentials{}, "dev", Admin); err != nil {
		t.Fatalf("auth off: %v", err)
	}
}

// TestPasswordCacheFollowsTheHash checks that a remembered outcome stops
// counting once the user's password changes.
func TestPasswordCacheFollowsTheHash(t *testing.T) {
	g, cat, _ := testGuard(t, nil)
	addUser(t, g, cat, "node", "old-password")
	cred := Credentials{Username: "node", Password: "old-password"}
	for i := 0; i < 3; i++ {
		if _, err := g.Identify(cred); err != nil {
			t.Fatal(err)
		}
	}
	h, _ := g.HashPassword("new-password")
	if err := cat.Apply(naming.Op{Kind: naming.OpUpdateUser, User: &naming.User{Name: "node", Hash: h}}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Identify(cred); !errors.Is(err, ErrDenied) {
		t.Fatalf("old password still accepted: %v", err)
	}
	if _, err := g.Identify(Credentials{Username: "node", Password: "new-password"}); err != nil {
		t.Fatal(err)
	}
}

// TestPasswordChecksAreBounded: with every bcrypt slot taken, a check
// waits at most HashWait and fails as unavailable.
func TestPasswordChecksAreBounded(t *testing.T) {
	g, _, _ := testGuard(t, func(c *Config) { c.MaxConcurrentHashes = 1; c.HashWait = 50 * time.Millisecond })
	if err := g.acquire(); err != nil {
		t.Fatal(err)
	}
	defer g.release()
	start := time.Now()
	_, err := g.Login("nacos", "something-else", "127.0.0.1")
	if !errors.Is(err, naming.ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("waited %v", d)
	}
}

func TestGeneratedSecretAndPassword(t *testing.T) {
	dir := t.TempDir()
	g, cat, _ := testGuard(t, func(c *Config) { c.DataDir = dir; c.AdminPassword = "" })
	fi, err := os.Stat(filepath.Join(dir, SecretFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", fi, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, AdminPasswordFileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, AdminPasswordFileName)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file mode %v", fi.Mode())
	}
	pw := strings.TrimSpace(string(b))
	s, err := g.Login("nacos", pw, "127.0.0.1")
	if err != nil {
		t.Fatalf("generated password does not log in: %v", err)
	}
	// A second guard on the same data dir keeps the secret (old tokens
	// still work) and does not create another administrator.
	w := &catalogWriter{cat: cat}
	cfg := g.cfg
	g2, err := New(cfg, cat, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = g2.Start(context.Background())
	g2.Close()
	if _, err := g2.Identify(Credentials{AccessToken: s.Token}); err != nil {
		t.Fatalf("token after restart: %v", err)
	}
	if len(w.ops) != 0 {
		t.Fatalf("restart applied ops: %+v", w.ops)
	}
}

func TestConfigRefusesMissingClusterSecret(t *testing.T) {
	c := DefaultConfig()
	c.Enabled, c.Clustered, c.DataDir = true, true, t.TempDir()
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "auth-token-secret is required") {
		t.Fatalf("got %v", err)
	}
	c.TokenSecret = "short"
	if c.Validate() == nil {
		t.Fatal("short secret accepted")
	}
	c.TokenSecret = strings.Repeat("s", 32)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseTokenNeverPanics(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	good := signToken(secret, claims{Sub: "a", Exp: 2_000_000_000, Pv: "x"})
	for _, tok := range []string{"", ".", "..", "a.b.c", jwtHeader + "..", jwtHeader + ".e30.", good + "x", strings.Repeat("a", 5000)} {
		if _, err := parseToken(secret, tok, time.Unix(0, 0)); err == nil {
			t.Errorf("%q accepted", tok)
		}
	}
	if c, err := parseToken(secret, good, time.Unix(0, 0)); err != nil || c.Sub != "a" {
		t.Fatalf("good token: %+v %v", c, err)
	}
}

func BenchmarkCheckToken(b *testing.B) {
	cat := naming.NewCatalog()
	cfg := DefaultConfig()
	cfg.Enabled, cfg.BcryptCost, cfg.TokenSecret = true, bcrypt.MinCost, strings.Repeat("k", 40)
	g, err := New(cfg, cat, &catalogWriter{cat: cat}, nil)
	if err != nil {
		b.Fatal(err)
	}
	h, _ := g.HashPassword("pw-123456")
	_ = cat.Apply(naming.Op{Kind: naming.OpInitAuth, User: &naming.User{Name: "nacos", Hash: h}})
	s, err := g.Login("nacos", "pw-123456", "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	cred := Credentials{AccessToken: s.Token}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Check(cred, "public", Write); err != nil {
			b.Fatal(err)
		}
	}
}
