package httpfront

import (
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// apiRoutes lists every route of the API as gin knows it (method, path
// with its parameter filled in), the node-to-node and metrics paths aside.
func apiRoutes(e *env) [][2]string {
	var out [][2]string
	for _, r := range e.s.gin.Routes() {
		if !strings.HasPrefix(r.Path, "/nacos/") {
			continue
		}
		out = append(out, [2]string{r.Method, strings.Replace(r.Path, ":key", "DEFAULT_GROUP@@demo", 1)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][1]+out[i][0] < out[j][1]+out[j][0] })
	return out
}

func isHealthPath(path string) bool { return strings.Contains(path, "/console/health/") }

// TestEveryRouteRefusals sends every route of the API each refusal of the
// checks before its handler, over gin (Handler) and over the listener:
// over MaxInFlight every route but the health checks answers 503 with
// Retry-After; on a node that is not ready, every naming route (v1 and v2)
// but the switches and metrics answers 503; with access control on and no
// credentials, every route Nacos does not exempt answers 403 (login and
// user management, which check for themselves, aside).
func TestEveryRouteRefusals(t *testing.T) {
	for _, wire := range []bool{false, true} {
		newE := newEnv
		if wire {
			newE = newWireEnv
		}
		name := map[bool]string{false: "gin", true: "wire"}[wire]

		e := newE(t, func(c *Config) { c.MaxInFlight = 1 })
		routes := apiRoutes(e)
		if len(routes) < 90 {
			t.Fatalf("%d routes: the table is missing some", len(routes))
		}
		if _, ok := e.s.load.Enter(1); !ok { // every slot taken
			t.Fatal("the only slot was not free")
		}
		for _, r := range routes {
			rec := e.req(r[0], r[1], "")
			if isHealthPath(r[1]) {
				if rec.Code == http.StatusServiceUnavailable {
					t.Errorf("%s: %s %s shed: health checks must pass", name, r[0], r[1])
				}
				continue
			}
			busy := r[0] == http.MethodHead || strings.Contains(rec.Body.String(), busyText) // HEAD answers carry no body
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" || !busy {
				t.Errorf("%s: %s %s over MaxInFlight: %d %q", name, r[0], r[1], rec.Code, rec.Body.String())
			}
			if v2 := strings.HasPrefix(r[1], "/nacos/v2/"); v2 && r[0] != http.MethodHead && !strings.HasPrefix(rec.Body.String(), `{"code":30000,`) {
				t.Errorf("%s: %s %s over MaxInFlight: not in the v2 envelope: %q", name, r[0], r[1], rec.Body.String())
			}
		}

		e = newE(t)
		e.cl.setReady(errors.New("loading"))
		for _, r := range apiRoutes(e) {
			rec := e.req(r[0], r[1], "")
			naming := strings.HasPrefix(r[1], nsPrefix+"/") || strings.HasPrefix(r[1], nsPrefixV2+"/")
			passes := strings.HasSuffix(r[1], "/switches") || strings.HasSuffix(r[1], "/metrics")
			refused := rec.Code == http.StatusServiceUnavailable &&
				(r[0] == http.MethodHead || strings.Contains(rec.Body.String(), "server is DOWN now, please try again later!"))
			if naming && !passes && !refused {
				t.Errorf("%s: %s %s on a node not ready: %d %q", name, r[0], r[1], rec.Code, rec.Body.String())
			}
			if (!naming || passes) && refused {
				t.Errorf("%s: %s %s refused for readiness", name, r[0], r[1])
			}
		}

		e = newAuthEnv(t, true)
		if wire {
			e.start()
		}
		for _, r := range apiRoutes(e) {
			if strings.HasPrefix(r[1], authPrefix+"/") {
				continue // login and user management check for themselves (auth_test.go)
			}
			rec := e.req(r[0], r[1], "")
			// The console's page and assets are public (its login page is
			// one of them); what it shows comes through the checked API.
			consoleAsset := r[1] == ConsolePath || r[1] == ConsolePath+"index.html" || strings.HasPrefix(r[1], ConsolePath+"console/")
			exempt := strings.HasSuffix(r[1], "/operator/metrics") || consoleAsset ||
				strings.HasSuffix(r[1], "/ops/metrics") || strings.HasSuffix(r[1], "/server/state") || isHealthPath(r[1])
			if denied := rec.Code == http.StatusForbidden; denied == exempt {
				t.Errorf("%s: %s %s without credentials: %d %q (exempt: %v)", name, r[0], r[1], rec.Code, rec.Body.String(), exempt)
			}
		}
	}
}
