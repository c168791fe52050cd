package httpfront

import (
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"sextant/naming"
)

// The need of a route in TestEveryRouteChecksTheNamespaceItTouches.
const (
	mustRead  = "read {ns}"
	mustWrite = "write {ns}"
	mustLogin = "any login"
	mustAdmin = "administrator"
	mustNone  = "nothing"
	mustSelf  = "checks for itself" // /nacos/v1/auth: TestAuthUserManagementAndPermissions
)

// routeTable holds, for every route, a request on namespace {ns} and
// what it needs. Routes served with Any are keyed "ANY path".
var routeTable = map[string]struct{ query, need string }{
	"POST /nacos/v1/ns/instance":                  {"namespaceId={ns}&serviceName=w&ip=10.0.0.9&port=80", mustWrite},
	"DELETE /nacos/v1/ns/instance":                {"namespaceId={ns}&serviceName=w&ip=10.0.0.9&port=80", mustWrite},
	"PUT /nacos/v1/ns/instance":                   {"namespaceId={ns}&serviceName=svc&ip=10.0.0.1&port=80&weight=2", mustWrite},
	"PATCH /nacos/v1/ns/instance":                 {"namespaceId={ns}&serviceName=svc&ip=10.0.0.1&port=80&weight=3", mustWrite},
	"GET /nacos/v1/ns/instance":                   {"namespaceId={ns}&serviceName=svc&ip=10.0.0.1&port=80", mustRead},
	"GET /nacos/v1/ns/instance/list":              {"namespaceId={ns}&serviceName=svc", mustRead},
	"PUT /nacos/v1/ns/instance/beat":              {"namespaceId={ns}&serviceName=svc&ip=10.0.0.1&port=80", mustWrite},
	"ANY /nacos/v1/ns/instance/statuses":          {"namespaceId=nsa&key={ns}%23%23DEFAULT_GROUP%40%40svc", mustRead},
	"PUT /nacos/v1/ns/instance/metadata/batch":    {"namespaceId={ns}&serviceName=svc&metadata=%7B%22a%22%3A%22b%22%7D", mustWrite},
	"DELETE /nacos/v1/ns/instance/metadata/batch": {"namespaceId={ns}&serviceName=svc&metadata=%7B%22a%22%3A%22b%22%7D", mustWrite},
	"POST /nacos/v1/ns/service":                   {"namespaceId={ns}&serviceName=made", mustWrite},
	"DELETE /nacos/v1/ns/service":                 {"namespaceId={ns}&serviceName=made", mustWrite},
	"PUT /nacos/v1/ns/service":                    {"namespaceId={ns}&serviceName=svc&protectThreshold=0", mustWrite},
	"GET /nacos/v1/ns/service":                    {"namespaceId={ns}&serviceName=svc", mustRead},
	"GET /nacos/v1/ns/service/list":               {"namespaceId={ns}&pageNo=1&pageSize=10", mustRead},
	"ANY /nacos/v1/ns/service/names":              {"namespaceId={ns}", mustRead},
	"GET /nacos/v1/ns/service/subscribers":        {"namespaceId={ns}&serviceName=svc", mustRead},
	"PUT /nacos/v1/ns/cluster":                    {"namespaceId={ns}&serviceName=svc&clusterName=DEFAULT&checkPort=80&useInstancePort4Check=true", mustWrite},
	"PUT /nacos/v1/ns/health":                     {"namespaceId={ns}&serviceName=svc&ip=10.0.0.1&port=80&healthy=true", mustWrite},
	"PUT /nacos/v1/ns/health/instance":            {"namespaceId={ns}&serviceName=svc&ip=10.0.0.1&port=80&healthy=true", mustWrite},
	"GET /nacos/v1/ns/catalog/services":           {"namespaceId={ns}", mustRead},
	"GET /nacos/v1/ns/catalog/service":            {"namespaceId={ns}&serviceName=svc", mustRead},
	"ANY /nacos/v1/ns/catalog/instances":          {"namespaceId={ns}&serviceName=svc&clusterName=DEFAULT&pageNo=1&pageSize=10", mustRead},
	"GET /nacos/v1/console/namespaces":            {"namespaceId={ns}", mustRead},
	"POST /nacos/v1/console/namespaces":           {"customNamespaceId={ns}x&namespaceName=x", mustAdmin},
	"PUT /nacos/v1/console/namespaces":            {"namespace={ns}&namespaceShowName=x", mustAdmin},
	"DELETE /nacos/v1/console/namespaces":         {"namespaceId={ns}x", mustAdmin},
	"GET /nacos/v1/ns/operator/switches":          {"namespaceId={ns}", mustLogin},
	"PUT /nacos/v1/ns/operator/switches":          {"namespaceId={ns}&entry=defaultCacheMillis&value=3000", mustAdmin},
	"GET /nacos/v1/ns/operator/servers":           {"namespaceId={ns}", mustLogin},
	"ANY /nacos/v1/ns/operator/push/state":        {"namespaceId={ns}", mustLogin},
	"GET /nacos/v1/ns/operator/distro/server":     {"namespaceId={ns}&serviceName=svc", mustLogin},
	"GET /nacos/v1/ns/raft/leader":                {"namespaceId={ns}", mustLogin},
	"ANY /nacos/v1/ns/health/server":              {"namespaceId={ns}", mustLogin},
	"GET /nacos/v1/ns/health/checkers":            {"namespaceId={ns}", mustLogin},
	"GET /nacos/v1/core/cluster/nodes":            {"namespaceId={ns}", mustLogin},
	"GET /nacos/v1/core/cluster/nodes/self":       {"namespaceId={ns}", mustLogin},
	"GET /nacos/v1/ns/operator/metrics":           {"namespaceId={ns}", mustNone},
	"GET /nacos/v1/console/server/state":          {"namespaceId={ns}", mustNone},
	"GET /nacos/v1/console/health/readiness":      {"", mustNone},
	"GET /nacos/v1/console/health/liveness":       {"", mustNone},
	"GET /nacos/v1/core/cluster/self":             {"namespaceId={ns}", mustLogin},
	"GET /nacos/v1/core/cluster/simple/nodes":     {"namespaceId={ns}", mustLogin},
	"GET /nacos/v1/core/cluster/health":           {"namespaceId={ns}", mustLogin},
	"GET /nacos/v1/ns/service/selector/types":     {"namespaceId={ns}", mustLogin},

	// The console: its page and assets are public (the login page is one
	// of them); its views need a login.
	"GET /":                         {"", mustNone},
	"GET /nacos":                    {"", mustNone},
	"GET /nacos/":                   {"", mustNone},
	"HEAD /nacos/":                  {"", mustNone},
	"GET /nacos/index.html":         {"", mustNone},
	"HEAD /nacos/index.html":        {"", mustNone},
	"GET /nacos/console/*file":      {"", mustNone},
	"HEAD /nacos/console/*file":     {"", mustNone},
	"GET /nacos/v1/console/cluster": {"namespaceId={ns}", mustLogin},
	"GET /nacos/v1/console/history": {"namespaceId={ns}", mustLogin},
	"GET /nacos/v1/console/dns":     {"namespaceId={ns}&serviceName=svc", mustLogin},

	// The 2.x Open API: the needs of the v1 routes they stand for.
	"POST /nacos/v2/ns/instance":                      {"namespaceId={ns}&serviceName=w&ip=10.0.0.9&port=80", mustWrite},
	"DELETE /nacos/v2/ns/instance":                    {"namespaceId={ns}&serviceName=w&ip=10.0.0.9&port=80", mustWrite},
	"PUT /nacos/v2/ns/instance":                       {"namespaceId={ns}&serviceName=svc&ip=10.0.0.1&port=80&weight=2", mustWrite},
	"PATCH /nacos/v2/ns/instance":                     {"namespaceId={ns}&serviceName=svc&ip=10.0.0.1&port=80&weight=3", mustWrite},
	"GET /nacos/v2/ns/instance":                       {"namespaceId={ns}&serviceName=svc&ip=10.0.0.1&port=80", mustRead},
	"GET /nacos/v2/ns/instance/list":                  {"namespaceId={ns}&serviceName=svc", mustRead},
	"PUT /nacos/v2/ns/instance/beat":                  {"namespaceId={ns}&serviceName=svc&ip=10.0.0.1&port=80", mustWrite},
	"ANY /nacos/v2/ns/instance/statuses/:key":         {"namespaceId=nsa", mustRead}, // the key, in the path, names {ns}
	"PUT /nacos/v2/ns/instance/metadata/batch":        {"namespaceId={ns}&serviceName=svc&metadata=%7B%22a%22%3A%22b%22%7D", mustWrite},
	"DELETE /nacos/v2/ns/instance/metadata/batch":     {"namespaceId={ns}&serviceName=svc&metadata=%7B%22a%22%3A%22b%22%7D", mustWrite},
	"POST /nacos/v2/ns/service":                       {"namespaceId={ns}&serviceName=made", mustWrite},
	"DELETE /nacos/v2/ns/service":                     {"namespaceId={ns}&serviceName=made", mustWrite},
	"PUT /nacos/v2/ns/service":                        {"namespaceId={ns}&serviceName=svc&protectThreshold=0", mustWrite},
	"GET /nacos/v2/ns/service":                        {"namespaceId={ns}&serviceName=svc", mustRead},
	"GET /nacos/v2/ns/service/list":                   {"namespaceId={ns}&pageNo=1&pageSize=10", mustRead},
	"PUT /nacos/v2/ns/health":                         {"namespaceId={ns}&serviceName=svc&ip=10.0.0.1&port=80&healthy=true", mustWrite},
	"PUT /nacos/v2/ns/health/instance":                {"namespaceId={ns}&serviceName=svc&ip=10.0.0.1&port=80&healthy=true", mustWrite},
	"GET /nacos/v2/ns/operator/switches":              {"namespaceId={ns}", mustLogin},
	"PUT /nacos/v2/ns/operator/switches":              {"namespaceId={ns}&entry=defaultCacheMillis&value=3000", mustAdmin},
	"GET /nacos/v2/ns/operator/metrics":               {"namespaceId={ns}", mustNone},
	"ANY /nacos/v2/ns/catalog/instances":              {"namespaceId={ns}&serviceName=svc&clusterName=DEFAULT&pageNo=1&pageSize=10", mustRead},
	"GET /nacos/v2/ns/client":                         {"namespaceId={ns}&clientId=x", mustAdmin},
	"GET /nacos/v2/ns/client/list":                    {"namespaceId={ns}", mustAdmin},
	"GET /nacos/v2/ns/client/publish/list":            {"namespaceId={ns}&clientId=x", mustAdmin},
	"GET /nacos/v2/ns/client/subscribe/list":          {"namespaceId={ns}&clientId=x", mustAdmin},
	"GET /nacos/v2/ns/client/service/publisher/list":  {"namespaceId={ns}&serviceName=svc", mustRead},
	"GET /nacos/v2/ns/client/service/subscriber/list": {"namespaceId={ns}&serviceName=svc", mustRead},
	"GET /nacos/v2/console/namespace":                 {"namespaceId={ns}", mustRead},
	"GET /nacos/v2/console/namespace/list":            {"namespaceId={ns}", mustRead},
	"POST /nacos/v2/console/namespace":                {"namespaceId={ns}x&namespaceName=x", mustAdmin},
	"PUT /nacos/v2/console/namespace":                 {"namespaceId={ns}&namespaceName=x", mustAdmin},
	"DELETE /nacos/v2/console/namespace":              {"namespaceId={ns}x", mustAdmin},
	"GET /nacos/v2/console/health/liveness":           {"", mustNone},
	"GET /nacos/v2/console/health/readiness":          {"", mustNone},
	"GET /nacos/v2/core/cluster/node/self":            {"namespaceId={ns}", mustLogin},
	"GET /nacos/v2/core/cluster/node/list":            {"namespaceId={ns}", mustLogin},
	"GET /nacos/v2/core/cluster/node/self/health":     {"namespaceId={ns}", mustLogin},
}

// TestEveryRouteChecksTheNamespaceItTouches runs every route of the API
// for four callers (none, a reader of nsa, a writer of nsa, an
// administrator) on two namespaces (nsa, nsb): a caller is refused (403)
// exactly when the route's need is not met on the namespace the handler
// reads or writes. instance/statuses names nsa in namespaceId and the
// namespace it reads in its key, as the attack of issue 16 did.
func TestEveryRouteChecksTheNamespaceItTouches(t *testing.T) {
	e, creds := newNamespaceEnv(t)
	var routes []string
	for _, r := range e.s.gin.Routes() {
		if strings.HasPrefix(r.Path, "/nacos/v1/auth/") {
			continue // mustSelf
		}
		if _, ok := tableEntry(r.Method, r.Path); !ok {
			t.Errorf("route %s %s is not in the table: say what it needs", r.Method, r.Path)
			continue
		}
		routes = append(routes, r.Method+" "+r.Path)
	}
	sort.Strings(routes)
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		entry, _ := tableEntry(method, path)
		for _, ns := range []string{"nsa", "nsb"} {
			for _, who := range []string{"none", "reader", "writer", "admin"} {
				want := allowed(entry.need, who, ns)
				q := strings.ReplaceAll(entry.query, "{ns}", ns)
				if creds[who] != "" {
					q += "&accessToken=" + url.QueryEscape(creds[who])
				}
				target := strings.Replace(path, ":key", url.PathEscape(ns+"##DEFAULT_GROUP@@svc"), 1)
				rec := e.req(method, target+"?"+q, "")
				if got := rec.Code != 403; got != want {
					t.Errorf("%s %s?%s as %s: %d %q; want allowed=%v (%s)", method, path, entry.query, who, rec.Code, rec.Body.String(), want, entry.need)
				}
			}
		}
	}
}

// tableEntry finds a route in routeTable (/ops/ is /operator/).
func tableEntry(method, path string) (struct{ query, need string }, bool) {
	path = strings.Replace(path, "/ns/ops/", "/ns/operator/", 1)
	if e, ok := routeTable[method+" "+path]; ok {
		return e, true
	}
	e, ok := routeTable["ANY "+path]
	return e, ok
}

// allowed says whether who may do what need asks on namespace ns; the
// reader may read nsa, the writer read and write it.
func allowed(need, who, ns string) bool {
	switch {
	case who == "admin" || need == mustNone:
		return true
	case who == "none":
		return false
	case need == mustLogin:
		return true
	case need == mustRead:
		return ns == "nsa"
	case need == mustWrite:
		return ns == "nsa" && who == "writer"
	}
	return false
}

// TestListsOfNamespacesShowOnlyWhatTheCallerMayRead: service/names and
// console/namespaces without a namespaceId list every namespace to an
// administrator and only the readable ones to others.
func TestListsOfNamespacesShowOnlyWhatTheCallerMayRead(t *testing.T) {
	e, creds := newNamespaceEnv(t)
	for _, who := range []string{"reader", "admin"} {
		tok := "accessToken=" + url.QueryEscape(creds[who])
		var names struct {
			Services map[string][]string `json:"services"`
		}
		if err := json.Unmarshal(e.must(200, "GET", "/nacos/v1/ns/service/names?"+tok, "").Body.Bytes(), &names); err != nil {
			t.Fatal(err)
		}
		var got []string
		for ns := range names.Services {
			got = append(got, ns)
		}
		var nss struct {
			Data []struct {
				Namespace string `json:"namespace"`
			} `json:"data"`
		}
		if err := json.Unmarshal(e.must(200, "GET", "/nacos/v1/console/namespaces?"+tok, "").Body.Bytes(), &nss); err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, n := range nss.Data {
			listed = append(listed, n.Namespace)
		}
		sort.Strings(got)
		sort.Strings(listed)
		wantNames, wantListed := []string{"nsa"}, []string{"nsa"}
		if who == "admin" {
			wantNames, wantListed = []string{"nsa", "nsb"}, []string{"", "nsa", "nsb"}
		}
		if !slices.Equal(got, wantNames) || !slices.Equal(listed, wantListed) {
			t.Errorf("%s sees service names in %v and namespaces %v; want %v and %v", who, got, listed, wantNames, wantListed)
		}
	}
	e.must(403, "GET", "/nacos/v1/ns/service/names", "")
	e.must(403, "GET", "/nacos/v1/console/namespaces", "")
}

// newNamespaceEnv is an auth env with namespaces nsa and nsb, each holding
// the service svc with the persistent instance 10.0.0.1:80, and tokens
// of a reader of nsa, a writer of nsa and the administrator.
func newNamespaceEnv(t *testing.T) (*env, map[string]string) {
	e := newAuthEnv(t, true)
	admin := e.login("nacos", "admin-pass-1")
	at := "&accessToken=" + url.QueryEscape(admin)
	for _, ns := range []string{"nsa", "nsb"} {
		e.must(200, "POST", "/nacos/v1/console/namespaces", "customNamespaceId="+ns+"&namespaceName="+ns+at)
		e.must(200, "POST", "/nacos/v1/ns/instance", "namespaceId="+ns+"&serviceName=svc&ip=10.0.0.1&port=80&ephemeral=false"+at)
	}
	for who, action := range map[string]string{"reader": "r", "writer": "rw"} {
		e.must(200, "POST", "/nacos/v1/auth/users", "username="+who+"&password="+who+"-pass-1"+at)
		e.must(200, "POST", "/nacos/v1/auth/roles", "role=role-"+who+"&username="+who+at)
		e.must(200, "POST", "/nacos/v1/auth/permissions", "role=role-"+who+"&resource=nsa:*:*&action="+action+at)
	}
	return e, map[string]string{"admin": admin, "reader": e.login("reader", "reader-pass-1"), "writer": e.login("writer", "writer-pass-1")}
}

// TestLastCheckReasonIsForAdministrators: what answered a probe is shown
// to administrators only; readers and writers of the namespace see when
// and whether it passed.
func TestLastCheckReasonIsForAdministrators(t *testing.T) {
	e, creds := newNamespaceEnv(t)
	key := naming.NewServiceKey("nsa", "", "svc")
	e.s.SetCheckLog(&fakeCheckLog{key: key, ik: naming.InstanceKey{IP: "10.0.0.1", Port: 80, Cluster: naming.DefaultCluster},
		r: naming.ProbeReport{Time: 5000, OK: false, Reason: "HTTP 401 from the metadata service"}})
	for who, want := range map[string]string{"admin": "HTTP 401 from the metadata service", "reader": "", "writer": ""} {
		m := decode(t, e.must(200, "GET", "/nacos/v1/ns/instance?namespaceId=nsa&serviceName=svc&ip=10.0.0.1&port=80&accessToken="+url.QueryEscape(creds[who]), ""))
		lc, _ := m["lastCheck"].(map[string]any)
		if lc == nil || lc["reason"] != want || lc["time"] != 5000.0 {
			t.Errorf("%s sees lastCheck %v, want reason %q", who, m["lastCheck"], want)
		}
	}
}
