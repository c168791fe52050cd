package httpfront

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"sextant/httpfront/auth"
	"sextant/naming"
)

// javaListServices is the request Nacos Java client 1.4.1's
// getServicesOfServer sends, which Spring Cloud Alibaba's getServices()
// and Dubbo's wildcard subscription call with pageSize Integer.MAX_VALUE.
func javaListServices(pageSize, extra string) string {
	return "/nacos/v1/ns/service/list?pageNo=1&pageSize=" + pageSize + "&namespaceId=public&groupName=DEFAULT_GROUP" + extra
}

func doms(t *testing.T, m map[string]any) []string {
	t.Helper()
	var out []string
	for _, d := range m["doms"].([]any) {
		out = append(out, d.(string))
	}
	return out
}

func TestServiceListTakesEveryPageSize(t *testing.T) {
	e := newEnv(t)
	for i, name := range []string{"orders", "users", "billing"} {
		e.register(naming.NewServiceKey("", "", name), healthyInstance("10.0.0.1", 8080+i))
	}
	for _, size := range []string{"2147483647", "99999999999999999999", "100001"} {
		m := decode(t, e.must(200, "GET", javaListServices(size, ""), "", "User-Agent", javaUA))
		if m["count"] != 3.0 || !reflect.DeepEqual(doms(t, m), []string{"billing", "orders", "users"}) {
			t.Fatalf("pageSize=%s: %v", size, m)
		}
	}
	// Page 2 of the largest page is empty, with the real count.
	m := decode(t, e.must(200, "GET", strings.Replace(javaListServices("2147483647", ""), "pageNo=1", "pageNo=2", 1), ""))
	if m["count"] != 3.0 || len(m["doms"].([]any)) != 0 {
		t.Fatalf("page 2: %v", m)
	}
	for _, bad := range []string{"0", "-1", "-99999999999999999999", "ten"} {
		rec := e.must(400, "GET", javaListServices(bad, ""), "")
		if !strings.Contains(rec.Body.String(), "pageSize") {
			t.Fatalf("pageSize=%s: %q", bad, rec.Body.String())
		}
	}
}

// TestServiceListLabelSelector sends the selector the Java client puts on
// getServicesOfServer(pageNo, pageSize, group, ExpressionSelector).
func TestServiceListLabelSelector(t *testing.T) {
	e := newEnv(t)
	a := healthyInstance("10.0.0.1", 8080)
	a.Metadata = map[string]string{"zone": "a"}
	e.register(naming.NewServiceKey("", "", "in-a"), a)
	b := healthyInstance("10.0.0.2", 8080)
	b.Metadata = map[string]string{"zone": "b"}
	e.register(naming.NewServiceKey("", "", "in-b"), b)
	e.must(200, "POST", "/nacos/v1/ns/service?serviceName=svc-a&metadata="+url.QueryEscape(`{"zone":"a"}`), "")
	sel := func(typ, expr string) string {
		j, _ := json.Marshal(map[string]string{"type": typ, "expression": expr})
		return "&selector=" + url.QueryEscape(string(j))
	}
	for _, c := range []struct {
		extra string
		want  []string
	}{
		{sel("label", "INSTANCE.metadata.zone = 'a'"), []string{"in-a"}},
		{sel("label", "INSTANCE.metadata.zone='b'"), []string{"in-b"}},
		{sel("label", "SERVICE.metadata.zone = 'a'"), []string{"svc-a"}},
		{sel("label", "INSTANCE.metadata.zone = 'c'"), nil},
		{sel("label", ""), []string{"in-a", "in-b", "svc-a"}},
		{sel("none", ""), []string{"in-a", "in-b", "svc-a"}},
		{sel("label", "CONSUMER.label.zone = 'a'"), []string{"in-a", "in-b", "svc-a"}}, // ignored, as by Nacos
	} {
		m := decode(t, e.must(200, "GET", javaListServices("2147483647", c.extra), "", "User-Agent", javaUA))
		if got := doms(t, m); !reflect.DeepEqual(got, c.want) || m["count"] != float64(len(c.want)) {
			t.Fatalf("%s: %v, want %v", c.extra, m, c.want)
		}
	}
	for _, bad := range []string{"&selector=%7Bnot-json", sel("regex", "x"), sel("label", "INSTANCE.metadata.zone")} {
		e.must(400, "GET", javaListServices("10", bad), "")
	}
}

func TestLoginWithAuthOffAnswersAToken(t *testing.T) {
	for name, e := range map[string]*env{"no guard": newEnv(t), "guard off": newAuthEnv(t, false)} {
		// Wrong and unknown users alike get a token, as Nacos with auth off.
		rec := e.must(200, "POST", "/nacos/v1/auth/users/login", "username=someone&password=whatever")
		m := decode(t, rec)
		tok, _ := m["accessToken"].(string)
		if _, num := m["tokenTtl"].(float64); !num || tok == "" || m["globalAdmin"] != true || m["username"] != "someone" {
			t.Fatalf("%s: login answer %v", name, m)
		}
		if rec.Header().Get("Authorization") != "Bearer "+tok {
			t.Fatalf("%s: Authorization %q", name, rec.Header().Get("Authorization"))
		}
		e.must(200, "POST", "/nacos/v1/ns/instance?serviceName=demo&ip=10.0.0.1&port=80&accessToken="+tok, "")
	}
}

func TestNacosPathsAndShapes(t *testing.T) {
	e := newEnv(t)
	m := decode(t, e.must(200, "GET", "/nacos/v1/core/cluster/self", ""))
	if m["code"] != 200.0 || m["data"].(map[string]any)["address"] != "10.0.0.5:8848" {
		t.Fatalf("cluster/self: %v", m)
	}
	m = decode(t, e.must(200, "GET", "/nacos/v1/core/cluster/simple/nodes", ""))
	if !reflect.DeepEqual(m["data"], []any{"10.0.0.5:8848", "10.0.0.6:8848"}) {
		t.Fatalf("simple/nodes: %v", m)
	}
	if m = decode(t, e.must(200, "GET", "/nacos/v1/core/cluster/health", "")); m["data"] != "UP" {
		t.Fatalf("cluster/health: %v", m)
	}
	m = decode(t, e.must(200, "GET", "/nacos/v1/ns/service/selector/types", ""))
	if m["code"] != 200.0 || !reflect.DeepEqual(m["data"], []any{"none", "label"}) {
		t.Fatalf("selector/types: %v", m)
	}

	e.must(200, "POST", "/nacos/v1/console/namespaces", "customNamespaceId=dev&namespaceName=Dev")
	for id, want := range map[string]string{"dev": "true", "nope": "false", "": "false"} {
		rec := e.must(200, "GET", "/nacos/v1/console/namespaces?checkNamespaceIdExist=true&customNamespaceId="+id, "")
		if rec.Body.String() != want {
			t.Fatalf("checkNamespaceIdExist %q: %q, want %q", id, rec.Body.String(), want)
		}
	}

	// raft/leader: {"leader": a RaftPeer as a JSON string}.
	m = decode(t, e.must(200, "GET", "/nacos/v1/ns/raft/leader", ""))
	var peer map[string]any
	if s, ok := m["leader"].(string); !ok || json.Unmarshal([]byte(s), &peer) != nil {
		t.Fatalf("raft/leader: %v", m)
	}
	if peer["ip"] != "10.0.0.5:8848" || peer["state"] != "LEADER" || peer["term"] == nil {
		t.Fatalf("raft/leader peer: %v", peer)
	}
	e.cl.mu.Lock()
	e.cl.leader = ""
	e.cl.mu.Unlock()
	if m = decode(t, e.must(200, "GET", "/nacos/v1/ns/raft/leader", "")); m["leader"] != "null" {
		t.Fatalf("raft/leader without a leader: %v", m)
	}
}

func TestAuthSearchPasswordAndAdmin(t *testing.T) {
	e := newAuthEnv(t, true)
	admin := url.QueryEscape(e.login("nacos", "admin-pass-1"))
	e.must(200, "POST", "/nacos/v1/auth/users?accessToken="+admin, "username=alice&password=alice-pass-1")
	e.must(200, "POST", "/nacos/v1/auth/users?accessToken="+admin, "username=bob&password=bob-pass-1")
	e.must(200, "POST", "/nacos/v1/auth/roles?accessToken="+admin, "role=ROLE_DEV&username=alice")

	var names []string
	rec := e.must(200, "GET", "/nacos/v1/auth/users/search?username=li&accessToken="+admin, "")
	if json.Unmarshal(rec.Body.Bytes(), &names) != nil || !reflect.DeepEqual(names, []string{"alice"}) {
		t.Fatalf("users/search: %q", rec.Body.String())
	}
	rec = e.must(200, "GET", "/nacos/v1/auth/roles/search?role=ROLE_&accessToken="+admin, "")
	if json.Unmarshal(rec.Body.Bytes(), &names) != nil || !reflect.DeepEqual(names, []string{naming.AdminRole, "ROLE_DEV"}) {
		t.Fatalf("roles/search: %q", rec.Body.String())
	}
	bob := url.QueryEscape(e.login("bob", "bob-pass-1"))
	e.must(403, "GET", "/nacos/v1/auth/users/search?username=a&accessToken="+bob, "")

	// A user changes its own password, proving the old one (Nacos 2.x path).
	rec = e.must(403, "PUT", "/nacos/v1/auth/users/password?accessToken="+bob, "oldPassword=wrong&newPassword=bob-pass-2")
	if rec.Body.String() != "Old password is invalid" {
		t.Fatalf("wrong old password: %q", rec.Body.String())
	}
	e.must(400, "PUT", "/nacos/v1/auth/users/password?accessToken="+bob, "oldPassword=bob-pass-1")
	e.must(403, "PUT", "/nacos/v1/auth/users/password", "oldPassword=bob-pass-1&newPassword=bob-pass-2")
	e.login("bob", "bob-pass-1") // unchanged so far
	e.must(200, "PUT", "/nacos/v1/auth/users/password?accessToken="+bob, "oldPassword=bob-pass-1&newPassword=bob-pass-2")
	e.login("bob", "bob-pass-2")
	e.must(403, "POST", "/nacos/v1/auth/users/login", "username=bob&password=bob-pass-1")

	// There is an administrator: POST /users/admin refuses.
	rec = e.must(409, "POST", "/nacos/v1/auth/users/admin", "password=x-pass-1")
	if m := decode(t, rec); m["code"] != 409.0 || m["message"] != "have admin user cannot use it" {
		t.Fatalf("users/admin with an admin: %v", m)
	}
}

func TestCreateFirstAdmin(t *testing.T) {
	// A node whose access control has no administrator yet.
	cat := naming.NewCatalog()
	w := &testWriter{cat: cat}
	acfg := auth.DefaultConfig()
	acfg.Enabled, acfg.BcryptCost, acfg.DataDir = true, bcrypt.MinCost, t.TempDir()
	g, err := auth.New(acfg, cat, w, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *Config) { c.Auth = g })
	e.s.r, e.s.w, e.cat, e.w = cat, w, cat, w
	m := decode(t, e.must(200, "POST", "/nacos/v1/auth/users/admin", "password=first-pass-1"))
	if m["username"] != "nacos" || m["password"] != "first-pass-1" {
		t.Fatalf("users/admin: %v", m)
	}
	if !cat.Auth().IsAdmin("nacos") {
		t.Fatal("nacos is not an administrator")
	}
	e.login("nacos", "first-pass-1")
	e.must(409, "POST", "/nacos/v1/auth/users/admin", "")
}
