package httpfront

import (
	"net/url"
	"strings"
	"testing"

	"sextant/history"
	"sextant/naming"
)

type fakeConsole struct{}

func (fakeConsole) Raft() RaftView { return RaftView{Role: "Leader", Term: 7} }
func (fakeConsole) History() []history.Sample {
	return []history.Sample{{Time: 1, Instances: 2, Healthy: 1, Beats: 0.5}}
}
func (fakeConsole) DNS() DNSView { return DNSView{Zone: "nacos.", Addr: "127.0.0.1:8600"} }
func (fakeConsole) GRPCClients() []GRPCClientView {
	return []GRPCClientView{{ConnectionID: "c-1", Remote: "127.0.0.9:50000", ClientVersion: "Nacos-Go-Client:v2.3.2", Instances: 2}}
}

func TestConsoleIsServedAndRootRedirects(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/", "/nacos"} {
		if loc := e.must(302, "GET", p, "").Header().Get("Location"); loc != ConsolePath {
			t.Errorf("%s redirects to %q", p, loc)
		}
	}
	idx := e.must(200, "GET", ConsolePath, "")
	if !strings.HasPrefix(idx.Header().Get("Content-Type"), "text/html") || !strings.Contains(idx.Body.String(), `src="console/app.js"`) {
		t.Fatalf("index: %v %q", idx.Header(), idx.Body.String())
	}
	e.must(200, "GET", ConsolePath+"index.html", "")
	e.must(200, "HEAD", ConsolePath+"console/pages/service.js", "")
	e.must(404, "GET", ConsolePath+"console/missing.js", "")
	// The Nacos API beside it is untouched.
	e.must(501, "GET", "/nacos/v1/ns/nothing", "")
}

func TestConsoleViews(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Console = fakeConsole{} })
	e.register(demo, healthyInstance("10.0.0.1", 80))
	e.register(demo, healthyInstance("10.0.0.2", 80))
	e.register(naming.NewServiceKey("", "", "other"), healthyInstance("10.0.0.3", 80))
	m := decode(t, e.must(200, "GET", "/nacos/v1/console/cluster", ""))
	members := m["members"].([]any)
	self := members[0].(map[string]any)
	// The fake cluster names no owner, so this node owns everything.
	if self["address"] != "10.0.0.5:8848" || self["services"] != 2.0 || self["instances"] != 3.0 || members[1].(map[string]any)["services"] != 0.0 {
		t.Fatalf("members %v", members)
	}
	if r := m["raft"].(map[string]any); r["role"] != "Leader" || r["term"] != 7.0 || m["leader"] != "10.0.0.5:8848" {
		t.Fatalf("cluster view %v", m)
	}
	if cs := m["grpcClients"].([]any); m["grpc"] != true || len(cs) != 1 || cs[0].(map[string]any)["connectionId"] != "c-1" || cs[0].(map[string]any)["instances"] != 2.0 {
		t.Fatalf("gRPC clients in the cluster view: %v %v", m["grpc"], m["grpcClients"])
	}
	h := decode(t, e.must(200, "GET", "/nacos/v1/console/history", ""))
	if s := h["samples"].([]any); len(s) != 1 || s[0].(map[string]any)["beats"] != 0.5 {
		t.Fatalf("history %v", h)
	}
	if d := decode(t, e.must(200, "GET", "/nacos/v1/console/dns", "")); d["zone"] != "nacos." || d["addr"] != "127.0.0.1:8600" {
		t.Fatalf("dns %v", d)
	}
	// Without a source the views still answer, with what the front knows.
	bare := newEnv(t)
	if s := decode(t, bare.must(200, "GET", "/nacos/v1/console/history", ""))["samples"].([]any); len(s) != 0 {
		t.Fatalf("history without a source: %v", s)
	}
	if r := decode(t, bare.must(200, "GET", "/nacos/v1/console/cluster", ""))["raft"].(map[string]any); r["role"] != "" || r["lastContact"] != -1.0 {
		t.Fatalf("raft without a source: %v", r)
	}
}

func TestConsoleViewsNeedALogin(t *testing.T) {
	e := newAuthEnv(t, true)
	// The files are public: the login page must load.
	e.must(200, "GET", ConsolePath, "")
	e.must(200, "GET", ConsolePath+"console/app.js", "")
	for _, p := range []string{"/nacos/v1/console/cluster", "/nacos/v1/console/history", "/nacos/v1/console/dns"} {
		e.must(403, "GET", p, "")
		e.must(403, "GET", p+"?accessToken=bogus", "")
	}
	tok := e.login("nacos", "admin-pass-1")
	for _, p := range []string{"/nacos/v1/console/cluster", "/nacos/v1/console/history", "/nacos/v1/console/dns"} {
		e.must(200, "GET", p, "", "Authorization", "Bearer "+tok)
	}
	// A user without any permission may still see the cluster views.
	e.must(200, "POST", "/nacos/v1/auth/users", url.Values{"username": {"viewer"}, "password": {"viewer-pass"}, "accessToken": {tok}}.Encode())
	vt := e.login("viewer", "viewer-pass")
	e.must(200, "GET", "/nacos/v1/console/cluster?accessToken="+vt, "")
	e.must(403, "GET", "/nacos/v1/ns/catalog/services?pageNo=1&pageSize=10&accessToken="+vt, "")
}
