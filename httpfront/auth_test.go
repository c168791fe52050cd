package httpfront

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"sextant/httpfront/auth"
	"sextant/naming"
)

// newAuthEnv is newEnv with access control on and the administrator
// nacos/admin-pass-1 created.
func newAuthEnv(t *testing.T, enabled bool) *env {
	t.Helper()
	cat := naming.NewCatalog()
	w := &testWriter{cat: cat}
	acfg := auth.DefaultConfig()
	acfg.Enabled, acfg.BcryptCost, acfg.DataDir, acfg.AdminPassword = enabled, bcrypt.MinCost, t.TempDir(), "admin-pass-1"
	g, err := auth.New(acfg, cat, w, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	h, _ := g.HashPassword("admin-pass-1")
	if err := cat.Apply(naming.Op{Kind: naming.OpInitAuth, User: &naming.User{Name: "nacos", Hash: h}}); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Addr, cfg.Push.Listen, cfg.Push.Target = "127.0.0.1:0", "127.0.0.1:0", "source"
	cfg.Auth = g
	cl := &fakeCluster{members: []naming.Member{{Address: "10.0.0.5:8848", State: naming.MemberUp, Self: true}}}
	s, err := New(cfg, cat, w, cl, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &env{t: t, s: s, h: s.Handler(), cat: cat, w: w, cl: cl}
}

func (e *env) login(user, pw string) string {
	e.t.Helper()
	rec := e.must(200, "POST", "/nacos/v1/auth/users/login", url.Values{"username": {user}, "password": {pw}}.Encode())
	m := decode(e.t, rec)
	tok, _ := m["accessToken"].(string)
	if _, isNum := m["tokenTtl"].(float64); !isNum || tok == "" {
		e.t.Fatalf("login answer %v: tokenTtl must be a number and accessToken set", m)
	}
	if rec.Header().Get("Authorization") != "Bearer "+tok {
		e.t.Fatalf("Authorization header %q", rec.Header().Get("Authorization"))
	}
	return tok
}

func TestAuthLoginAndTokenUse(t *testing.T) {
	e := newAuthEnv(t, true)
	reg := "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=80"
	rec := e.must(403, "POST", reg, "")
	if rec.Body.String() != "user not found!" {
		t.Fatalf("body %q", rec.Body.String())
	}
	// Nothing trusts the User-Agent, not even the one Nacos peers once used.
	e.must(403, "POST", reg, "", "User-Agent", "Nacos-Server:v1.4.1")
	if rec := e.req("POST", "/nacos/v1/auth/users/login", "username=nacos&password=wrong"); rec.Code != 403 || rec.Body.String() != "unknown user!" {
		t.Fatalf("wrong password: %d %q", rec.Code, rec.Body.String())
	}
	tok := e.login("nacos", "admin-pass-1")
	if m := decode(t, e.must(200, "POST", "/nacos/v1/auth/login", "username=nacos&password=admin-pass-1")); m["globalAdmin"] != true {
		t.Fatalf("alias login: %v", m)
	}
	e.must(200, "POST", reg+"&accessToken="+url.QueryEscape(tok), "")
	e.must(200, "GET", "/nacos/v1/ns/instance/list?serviceName=demo", "", "Authorization", "Bearer "+tok)
	e.must(200, "PUT", "/nacos/v1/ns/instance/beat", "serviceName=demo&ip=10.0.0.1&port=80&accessToken="+url.QueryEscape(tok))
	// Username and password on the request, as the Node client sends them.
	e.must(200, "GET", "/nacos/v1/ns/instance/list?serviceName=demo&username=nacos&password=admin-pass-1", "")
	e.must(403, "GET", "/nacos/v1/ns/instance/list?serviceName=demo&username=nacos&password=nope", "")
	e.must(403, "GET", "/nacos/v1/ns/instance/list?serviceName=demo&accessToken=x.y.z", "")
	// Exempt: health, server state, metrics.
	e.must(200, "GET", "/nacos/v1/console/health/liveness", "")
	e.must(200, "GET", "/nacos/v1/console/health/readiness", "")
	e.must(200, "GET", "/nacos/v1/ns/operator/metrics", "")
	e.must(200, "GET", "/nacos/v1/console/server/state", "")
}

func TestAuthUserManagementAndPermissions(t *testing.T) {
	e := newAuthEnv(t, true)
	admin := "accessToken=" + url.QueryEscape(e.login("nacos", "admin-pass-1"))
	e.must(200, "POST", "/nacos/v1/auth/users", "username=dev1&password=dev-pass-1&"+admin)
	if rec := e.req("POST", "/nacos/v1/auth/users", "username=dev1&password=x&"+admin); rec.Code != 400 || !strings.Contains(rec.Body.String(), "already exist") {
		t.Fatalf("duplicate user: %d %q", rec.Code, rec.Body.String())
	}
	dev := "accessToken=" + url.QueryEscape(e.login("dev1", "dev-pass-1"))
	// Not an administrator: no user management, no writes without a permission.
	e.must(403, "POST", "/nacos/v1/auth/users", "username=dev2&password=p&"+dev)
	e.must(403, "GET", "/nacos/v1/auth/users?"+dev, "")
	e.must(403, "POST", "/nacos/v1/ns/instance?namespaceId=dev&serviceName=s&ip=10.0.0.1&port=1&"+dev, "")
	e.must(200, "POST", "/nacos/v1/auth/roles", "role=developer&username=dev1&"+admin)
	e.must(200, "POST", "/nacos/v1/auth/permissions", "role=developer&resource=dev:*:*&action=rw&"+admin)
	e.must(200, "POST", "/nacos/v1/ns/instance?namespaceId=dev&serviceName=s&ip=10.0.0.1&port=1&"+dev, "")
	e.must(200, "GET", "/nacos/v1/ns/instance/list?namespaceId=dev&serviceName=s&"+dev, "")
	e.must(403, "GET", "/nacos/v1/ns/instance/list?serviceName=s&"+dev, "") // public: no permission
	e.must(403, "PUT", "/nacos/v1/ns/operator/switches?entry=pushEnabled&value=false&"+dev, "")
	e.must(200, "GET", "/nacos/v1/ns/operator/switches?"+dev, "")
	e.must(403, "POST", "/nacos/v1/console/namespaces?namespaceName=x&"+dev, "")

	page := decode(t, e.must(200, "GET", "/nacos/v1/auth/users?pageNo=1&pageSize=10&"+admin, ""))
	if page["totalCount"] != float64(2) {
		t.Fatalf("users page %v", page)
	}
	if strings.Contains(e.req("GET", "/nacos/v1/auth/users?"+admin, "").Body.String(), "$2a$") {
		t.Fatal("the user list shows password hashes")
	}
	// A user may change its own password, not another's.
	e.must(403, "PUT", "/nacos/v1/auth/users", "username=nacos&newPassword=hijack-1&"+dev)
	e.must(200, "PUT", "/nacos/v1/auth/users", "username=dev1&newPassword=dev-pass-2&"+dev)
	e.must(403, "GET", "/nacos/v1/ns/instance/list?namespaceId=dev&serviceName=s&"+dev, "") // old token
	e.login("dev1", "dev-pass-2")
	// Deleting the user ends its access.
	e.must(200, "DELETE", "/nacos/v1/auth/users?username=dev1&"+admin, "")
	e.must(403, "GET", "/nacos/v1/ns/instance/list?namespaceId=dev&serviceName=s&username=dev1&password=dev-pass-2", "")
	// The last administrator stays.
	e.must(400, "DELETE", "/nacos/v1/auth/users?username=nacos&"+admin, "")
	// No op ever carried a plain password.
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	for _, op := range e.w.ops {
		if op.User != nil && (strings.Contains(op.User.Hash, "dev-pass") || !strings.HasPrefix(op.User.Hash, "$2")) && op.Kind != naming.OpDeleteUser {
			t.Fatalf("op %s carries %q", op.Kind, op.User.Hash)
		}
	}
}

func TestAuthOffLetsEverythingThrough(t *testing.T) {
	e := newAuthEnv(t, false)
	e.must(200, "POST", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=80", "")
	e.must(200, "PUT", "/nacos/v1/ns/operator/switches?entry=pushEnabled&value=true", "")
	// Login still works for clients configured with credentials.
	e.login("nacos", "admin-pass-1")
}

// TestShedOverMaxInFlight fills every in-flight slot with requests held
// inside the writer, then checks that one more is refused at once with
// 503, that health checks still answer, and that service resumes when
// the held requests finish.
func TestShedOverMaxInFlight(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxInFlight = 4 })
	release := make(chan struct{})
	held := make(chan struct{}, 8)
	e.s.w = blockingWriter{Writer: e.w, held: held, release: release}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			e.req("POST", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port="+string(rune('1'+i)), "")
		}(i)
	}
	for i := 0; i < 4; i++ {
		select {
		case <-held:
		case <-time.After(5 * time.Second):
			t.Fatal("requests did not reach the writer")
		}
	}
	start := time.Now()
	rec := e.req("GET", "/nacos/v1/ns/instance/list?serviceName=demo", "")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("over the bound: %d %q", rec.Code, rec.Body.String())
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("refusal took %v; it must not queue", d)
	}
	e.must(200, "GET", "/nacos/v1/console/health/liveness", "")
	if e.s.Shed() != 1 {
		t.Fatalf("shed counter %d", e.s.Shed())
	}
	close(release)
	wg.Wait()
	e.must(200, "GET", "/nacos/v1/ns/instance/list?serviceName=demo", "")
	if e.s.InFlight() != 0 {
		t.Fatalf("in flight after the flood: %d", e.s.InFlight())
	}
}

// blockingWriter holds every Apply until release is closed.
type blockingWriter struct {
	Writer
	held    chan<- struct{}
	release <-chan struct{}
}

func (b blockingWriter) Apply(ctx context.Context, op naming.Op) error {
	b.held <- struct{}{}
	<-b.release
	return b.Writer.Apply(ctx, op)
}
