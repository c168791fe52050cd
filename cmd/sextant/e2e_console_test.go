package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/nacos-group/nacos-sdk-go/model"
	"github.com/nacos-group/nacos-sdk-go/vo"
)

// The console tests drive Debian's chromium, headless, against real
// sextant processes. Without chromium they fail under CI=true (.ci/run
// installs it) and are skipped otherwise, saying so. Screenshots of each
// page go to $SEXTANT_CONSOLE_SHOTS when set, else to a temporary
// directory named in the log; $SEXTANT_CONSOLE_README names where the
// README's picture of the service detail page is written.

// chromiumPath finds the browser or ends the test.
func chromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed, and CI=true: the console tests need it (.ci/run installs it with apt-get install chromium)")
	}
	t.Skip("chromium is not installed: the console tests need it (apt-get install chromium); under CI=true this is a failure")
	return ""
}

// browser is one headless chromium tab on a node's console.
type browser struct {
	t     testing.TB
	ctx   context.Context
	base  string
	shots string

	mu         sync.Mutex
	exceptions []string
}

// newBrowser starts chromium with a fresh profile, its window w×h.
func newBrowser(t testing.TB, base string, w, h int) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(w, h),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	shots := os.Getenv("SEXTANT_CONSOLE_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, ctx: ctx, base: base, shots: shots}
	// Start the browser, then hear of every uncaught exception of the page.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	thrown := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range thrown {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.exceptions = append(b.exceptions, ev.ExceptionDetails.Text+" "+fmt.Sprint(ev.ExceptionDetails.Exception))
			b.mu.Unlock()
		}
	}()
	return b
}

// do runs steps, failing the test with a screenshot on error.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.shot("failed")
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open loads a page of the console, the fragment after /nacos/.
func (b *browser) open(fragment string) {
	b.t.Helper()
	b.do("open "+fragment, chromedp.Navigate(b.base+"/nacos/"+fragment))
}

// waitJS waits (bounded) until the JavaScript expression is true.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		b.shot("failed")
		b.t.Fatalf("waiting for %s: %v\npage text: %s", what, err, b.text("body"))
	}
}

// waitText waits until the element's text contains s.
func (b *browser) waitText(sel, s string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf("%q in %s", s, sel), fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.innerText.includes(%q); })()`, sel, s))
}

// text is the visible text of the first element matching sel ("" if none).
func (b *browser) text(sel string) string {
	s, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.innerText : ''; })()`, sel)))
	return s
}

// eval evaluates JavaScript (awaiting a promise) into v.
func (b *browser) eval(expr string, v any) {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		b.t.Fatalf("evaluate %s: %v (%s)", expr, err, raw)
	}
}

// shot saves a PNG of the whole page.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
}

// fitsWidth fails the test if the page is wider than the window (it would
// scroll sideways on a phone), naming the widest elements.
func (b *browser) fitsWidth() {
	b.t.Helper()
	var wide []string
	b.eval(`[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
		.slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`, &wide)
	if len(wide) > 0 {
		b.t.Fatalf("wider than the %s window: %v", "phone", wide)
	}
}

// noExceptions fails the test if the page threw an uncaught exception.
func (b *browser) noExceptions() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.exceptions) > 0 {
		b.t.Fatalf("the console threw: %v", b.exceptions)
	}
}

// dnsAnswers asks p's DNS front for the A records of service: with the dig
// command the console shows when dig is installed, else with miekg/dns.
func dnsAnswers(p *proc, digCmd, service string) []string {
	if _, err := exec.LookPath("dig"); err != nil {
		return p.dnsA(service)
	}
	f := strings.Fields(digCmd)
	out, err := exec.Command(f[0], append(f[1:], "+time=1", "+tries=1")...).Output()
	if err != nil {
		return nil
	}
	return strings.Fields(string(out))
}

// TestConsoleInABrowser walks the console of one node with access control
// on: log in, see instances registered through the API, take one offline
// and see DNS and the API follow, set a cluster's health check to NONE,
// create and delete a namespace, log out and be refused.
func TestConsoleInABrowser(t *testing.T) {
	chromiumPath(t)
	p := startSextant(t, "", "--auth-enabled", "--auth-admin-password", "admin-pass-1")
	tok := loginToken(t, p, "nacos", "admin-pass-1")
	api := func(method, path string, v url.Values) string {
		t.Helper()
		v.Set("accessToken", tok)
		code, body := p.do(method, path, v)
		if code != 200 {
			t.Fatalf("%s %s: %d %s", method, path, code, body)
		}
		return body
	}

	// Two ephemeral instances from a real client, which beats, and one
	// persistent instance whose port answers the server's TCP probes.
	c := authedNacosClient(t, p, "nacos", "admin-pass-1")
	for _, ip := range []string{"127.0.0.11", "127.0.0.12"} {
		if ok, err := c.RegisterInstance(vo.RegisterInstanceParam{Ip: ip, Port: 8080, ServiceName: "web", Weight: 1,
			Enable: true, Healthy: true, Ephemeral: true, Metadata: map[string]string{"version": "v1"}}); err != nil || !ok {
			t.Fatalf("register %s: %v", ip, err)
		}
	}
	// The same client subscribes, so the detail page has a subscriber.
	if err := c.Subscribe(&vo.SubscribeParam{ServiceName: "web", SubscribeCallback: func([]model.SubscribeService, error) {}}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	probePort := ln.Addr().(*net.TCPAddr).Port
	api("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {"web"}, "ip": {"127.0.0.1"}, "port": {fmt.Sprint(probePort)},
		"ephemeral": {"false"}, "clusterName": {"BATCH"}, "weight": {"2"}})
	waitFor(t, 10*time.Second, "three instances of web", func() bool {
		_, body := p.get("/nacos/v1/ns/catalog/instances", url.Values{"serviceName": {"web"}, "clusterName": {"DEFAULT"},
			"pageNo": {"1"}, "pageSize": {"10"}, "accessToken": {tok}})
		return strings.Count(body, `"ip"`) == 2
	})

	b := newBrowser(t, "http://"+p.httpAddr, 1280, 900)

	// 1. Log in. "/" leads to the console, which asks for a login; a wrong
	// password is said in words.
	b.do("open /", chromedp.Navigate(b.base+"/"))
	b.waitJS("the login form", `!!document.querySelector('#login-form')`)
	b.shot("01-login")
	b.do("wrong password", chromedp.SendKeys(chromedp.CSS("#username"), "nacos"), chromedp.SendKeys(chromedp.CSS("#password"), "nope"),
		chromedp.Click(chromedp.CSS("#login-submit")))
	b.waitText("#login-error", "Wrong username or password")
	b.do("log in", chromedp.Evaluate[chromedp.Void](`document.querySelector('#password').value = ''`), chromedp.SendKeys(chromedp.CSS("#password"), "admin-pass-1\n"))
	b.waitJS("the overview after login", `!!document.querySelector('#stat-instances') && location.hash.startsWith('#/overview')`)
	if got := b.text("#session"); !strings.Contains(got, "nacos (admin)") {
		t.Fatalf("session shows %q", got)
	}
	b.waitJS("a chart", `document.querySelectorAll('figure.chart svg').length === 4`)
	b.shot("02-overview")

	// 2. The instances registered through the API, in the list and the detail.
	b.open("#/services")
	b.waitJS("web in the service list", `[...document.querySelectorAll('table.services tbody tr')].some(r => r.innerText.includes('web'))`)
	var row []string
	b.eval(`[...[...document.querySelectorAll('table.services tbody tr')].find(r => r.innerText.includes('web')).cells].map(c => c.innerText.trim())`, &row)
	if len(row) < 5 || row[0] != "web" || row[1] != "DEFAULT_GROUP" || row[2] != "2" || row[3] != "3" {
		t.Fatalf("service row %q: want web, DEFAULT_GROUP, 2 clusters, 3 instances", row)
	}
	b.shot("03-services")

	// The keyboard alone: create a service from its dialog (focus lands in
	// the first field, Enter submits), and Escape closes a dialog unchanged.
	b.do("focus create", chromedp.Focus(chromedp.CSS("#svc-create")), chromedp.KeyEvent(kb.Enter))
	b.waitJS("focus in the name field", `document.activeElement && document.activeElement.id === 'f-serviceName'`)
	b.do("type a name", chromedp.KeyEvent("kbd-svc"+kb.Enter))
	b.waitJS("kbd-svc in the list", `[...document.querySelectorAll('table.services a.svc-link')].some(a => a.innerText === 'kbd-svc')`)
	if body := api("GET", "/nacos/v1/ns/service", url.Values{"serviceName": {"kbd-svc"}}); !strings.Contains(body, `"kbd-svc"`) {
		t.Fatalf("service created from the keyboard: %s", body)
	}
	b.do("open delete", chromedp.Focus(chromedp.CSS(`button[aria-label="Delete kbd-svc"]`)), chromedp.KeyEvent(kb.Enter))
	b.waitJS("the confirmation", `!!document.querySelector('dialog[open]')`)
	b.do("escape", chromedp.KeyEvent(kb.Escape))
	b.waitJS("the dialog closed", `!document.querySelector('dialog[open]')`)
	b.do("delete for real", chromedp.Focus(chromedp.CSS(`button[aria-label="Delete kbd-svc"]`)), chromedp.KeyEvent(kb.Enter))
	b.waitJS("the confirmation again", `!!document.querySelector('dialog[open]')`)
	b.do("confirm", chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)))
	b.waitJS("kbd-svc gone", `![...document.querySelectorAll('table.services a.svc-link')].some(a => a.innerText === 'kbd-svc')`)
	if code, body := p.get("/nacos/v1/ns/service", url.Values{"serviceName": {"kbd-svc"}, "accessToken": {tok}}); code != 404 {
		t.Fatalf("service after delete: %d %s", code, body)
	}
	b.do("open web", chromedp.Click(chromedp.CSS("a.svc-link")))
	b.waitJS("the detail of web", `!!document.querySelector('[data-cluster="DEFAULT"]') && !!document.querySelector('[data-cluster="BATCH"]')`)
	b.waitText(`[data-cluster="DEFAULT"]`, "127.0.0.11:8080")
	b.waitText(`[data-cluster="DEFAULT"]`, "127.0.0.12:8080")
	b.waitText(`[data-cluster="DEFAULT"]`, "version=v1")
	b.waitText(`[data-cluster="BATCH"]`, fmt.Sprintf("127.0.0.1:%d", probePort))
	b.waitText(`[data-cluster="BATCH"]`, "persistent")
	b.waitText("table.subscribers", "127.0.0.1:")
	b.waitJS("the last message to fade", `!document.querySelector('#toast.show')`)
	b.shot("04-service")
	if path := os.Getenv("SEXTANT_CONSOLE_README"); path != "" {
		// The picture in the README: the detail page, scaled down.
		png, err := chromedp.Run(b.ctx, chromedp.ScreenshotScale(chromedp.CSS("body"), 0.6))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// 3. Take 127.0.0.11 offline: DNS stops answering it, the API marks it
	// disabled. The dig command is the one the console shows.
	var digCmd string
	b.eval(`document.querySelector('table.dns input.cmd').value`, &digCmd)
	_, dnsPort, _ := net.SplitHostPort(p.dnsAddr)
	if want := "dig @127.0.0.1 -p " + dnsPort + " web.service.nacos. A +short"; digCmd != want {
		t.Fatalf("dig command %q, want %q", digCmd, want)
	}
	answers := func() []string { return dnsAnswers(p, digCmd, "web") }
	waitFor(t, 10*time.Second, "127.0.0.11 in DNS before", func() bool { return slices.Contains(answers(), "127.0.0.11") })
	b.do("take offline", chromedp.Click(chromedp.CSS(`button[aria-label="Take 127.0.0.11:8080 offline"]`)))
	b.waitJS("the Online button", `!!document.querySelector('button[aria-label="Bring 127.0.0.11:8080 online"]')`)
	waitFor(t, 10*time.Second, "DNS without 127.0.0.11", func() bool {
		a := answers()
		return !slices.Contains(a, "127.0.0.11") && slices.Contains(a, "127.0.0.12")
	})
	if lb := api("GET", "/nacos/v1/ns/instance/list", url.Values{"serviceName": {"web"}}); strings.Contains(lb, `"127.0.0.11"`) || !strings.Contains(lb, `"127.0.0.12"`) {
		t.Fatalf("instance/list after 127.0.0.11 went offline: %s", lb)
	}
	var inst struct {
		List []struct {
			IP      string `json:"ip"`
			Enabled bool   `json:"enabled"`
		} `json:"list"`
	}
	body := api("GET", "/nacos/v1/ns/catalog/instances", url.Values{"serviceName": {"web"}, "clusterName": {"DEFAULT"}, "pageNo": {"1"}, "pageSize": {"10"}})
	if err := json.Unmarshal([]byte(body), &inst); err != nil {
		t.Fatal(err)
	}
	for _, in := range inst.List {
		if (in.IP == "127.0.0.11") == in.Enabled {
			t.Fatalf("catalog/instances: %+v; want 127.0.0.11 disabled, the others enabled", inst.List)
		}
	}
	b.shot("05-offline")

	// 4. The BATCH cluster's health check to NONE.
	b.do("edit health check", chromedp.Click(chromedp.CSS(`button[aria-label="Edit health check of cluster BATCH"]`)))
	b.waitJS("the health check dialog", `!!document.querySelector('dialog[open] #f-type')`)
	b.do("choose NONE", chromedp.SetValue(chromedp.CSS("#f-type"), "NONE"))
	b.shot("06-health-check")
	b.do("save", chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)))
	b.waitJS("the dialog to close", `!document.querySelector('dialog[open]')`)
	b.waitText(`[data-cluster="BATCH"] .checker`, "NONE")
	var svc struct {
		Clusters []struct {
			Name          string `json:"name"`
			HealthChecker struct {
				Type string `json:"type"`
			} `json:"healthChecker"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(api("GET", "/nacos/v1/ns/catalog/service", url.Values{"serviceName": {"web"}})), &svc); err != nil {
		t.Fatal(err)
	}
	for _, cl := range svc.Clusters {
		if cl.Name == "BATCH" && cl.HealthChecker.Type != "NONE" {
			t.Fatalf("BATCH health checker %q after the console saved NONE", cl.HealthChecker.Type)
		}
	}

	// With the checker NONE, health is set through the API: the persistent
	// instance goes unhealthy, and with the threshold set below to 1 the
	// list marks the protect threshold reached.
	api("PUT", "/nacos/v1/ns/health", url.Values{"serviceName": {"web"}, "clusterName": {"BATCH"}, "ip": {"127.0.0.1"},
		"port": {fmt.Sprint(probePort)}, "healthy": {"false"}})

	// The service's settings and an instance's weight, edited.
	b.do("edit service", chromedp.Click(chromedp.CSS("#svc-edit")))
	b.waitJS("the service dialog", `!!document.querySelector('dialog[open] #f-protectThreshold')`)
	b.do("threshold and metadata", chromedp.SetValue(chromedp.CSS("#f-protectThreshold"), "1"),
		chromedp.SendKeys(chromedp.CSS("#f-metadata"), "team=core"), chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)))
	b.waitJS("the service dialog closed", `!document.querySelector('dialog[open]')`)
	b.waitText("dl.facts", "team=core")
	if body := api("GET", "/nacos/v1/ns/service", url.Values{"serviceName": {"web"}}); !strings.Contains(body, `"protectThreshold":1`) || !strings.Contains(body, `"team":"core"`) {
		t.Fatalf("service after the console's edit: %s", body)
	}
	b.do("edit instance", chromedp.Click(chromedp.CSS(`button[aria-label="Edit 127.0.0.12:8080"]`)))
	b.waitJS("the instance dialog", `!!document.querySelector('dialog[open] #f-weight')`)
	b.do("weight", chromedp.SetValue(chromedp.CSS("#f-weight"), "5"), chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)))
	b.waitJS("the instance dialog closed", `!document.querySelector('dialog[open]')`)
	if body := api("GET", "/nacos/v1/ns/instance", url.Values{"serviceName": {"web"}, "ip": {"127.0.0.12"}, "port": {"8080"}}); !strings.Contains(body, `"weight":5`) || !strings.Contains(body, `"version":"v1"`) {
		t.Fatalf("instance after the console set weight 5: %s", body)
	}

	b.open("#/services")
	b.waitJS("the protect threshold marked reached", `[...document.querySelectorAll('table.services tbody tr')].some(r => r.cells[0].innerText.trim() === 'web' && r.innerText.includes('reached') && !r.innerText.includes('not reached'))`)
	if body := api("GET", "/nacos/v1/ns/catalog/services", url.Values{"pageNo": {"1"}, "pageSize": {"10"}}); !strings.Contains(body, `"triggerFlag":"true"`) {
		t.Fatalf("catalog/services with the threshold reached: %s", body)
	}
	b.shot("06-threshold-reached")

	// 5. A namespace: created, refused deletion while it holds a service,
	// deleted once empty.
	b.open("#/namespaces")
	b.waitJS("the namespace list", `!!document.querySelector('table.namespaces')`)
	b.do("create namespace", chromedp.Click(chromedp.CSS("#ns-create")))
	b.waitJS("the namespace dialog", `!!document.querySelector('dialog[open] #f-namespaceName')`)
	b.do("fill namespace", chromedp.SendKeys(chromedp.CSS("#f-customNamespaceId"), "console-ns"),
		chromedp.SendKeys(chromedp.CSS("#f-namespaceName"), "Console NS"), chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)))
	b.waitText("table.namespaces", "console-ns")
	if body := api("GET", "/nacos/v1/console/namespaces", url.Values{}); !strings.Contains(body, `"console-ns"`) {
		t.Fatalf("namespaces after create: %s", body)
	}
	api("POST", "/nacos/v1/ns/service", url.Values{"namespaceId": {"console-ns"}, "serviceName": {"held"}})
	b.open("#/namespaces")
	b.waitText("table.namespaces", "console-ns")
	b.do("delete namespace", chromedp.Click(chromedp.CSS(`button[aria-label="Delete namespace console-ns"]`)))
	b.do("confirm", chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)))
	b.waitJS("the refusal in words", `(document.querySelector('dialog[open] .dialog-error') || {}).innerText?.length > 0`)
	b.shot("07-namespace-refused")
	if body := api("GET", "/nacos/v1/console/namespaces", url.Values{}); !strings.Contains(body, `"console-ns"`) {
		t.Fatalf("a namespace holding a service was deleted: %s", body)
	}
	b.do("cancel", chromedp.Click(chromedp.CSS(`dialog[open] button.secondary`)))
	b.waitJS("the refused dialog closed", `!document.querySelector('dialog[open]')`)
	api("DELETE", "/nacos/v1/ns/service", url.Values{"namespaceId": {"console-ns"}, "serviceName": {"held"}})
	b.do("delete namespace again", chromedp.Click(chromedp.CSS(`button[aria-label="Delete namespace console-ns"]`)))
	b.do("confirm again", chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)))
	// Either the namespace goes, or the dialog says why not: fail at once
	// with the words rather than wait for the test's deadline.
	b.waitJS("console-ns gone or a refusal", `!document.querySelector('table.namespaces').innerText.includes('console-ns') ||
		(document.querySelector('dialog[open] .dialog-error') || {}).innerText?.length > 0`)
	if refusal := b.text("dialog[open] .dialog-error"); refusal != "" {
		t.Fatalf("deleting the emptied namespace was refused: %s", refusal)
	}
	if body := api("GET", "/nacos/v1/console/namespaces", url.Values{}); strings.Contains(body, `"console-ns"`) {
		t.Fatalf("namespace still there: %s", body)
	}
	b.shot("08-namespaces")

	// Access control from the admin pages: a user, a role for it, and a
	// permission for the role, after which the user reads public.
	for _, step := range []struct {
		frag   string
		fields [][2]string
		shows  string
	}{
		{"#/users", [][2]string{{"username", "ops"}, {"password", "ops-pass-1"}}, "ops"},
		{"#/roles", [][2]string{{"role", "ROLE_OPS"}, {"username", "ops"}}, "ROLE_OPS"},
		{"#/permissions", [][2]string{{"role", "ROLE_OPS"}, {"resource", "public"}}, "ROLE_OPS"},
	} {
		b.open(step.frag)
		b.waitJS(step.frag, `!!document.querySelector('main table') && !!document.querySelector('.page-head .primary')`)
		b.do("add on "+step.frag, chromedp.Click(chromedp.CSS(`.page-head .primary`)))
		b.waitJS("the dialog of "+step.frag, `!!document.querySelector('dialog[open]')`)
		for _, f := range step.fields {
			b.do("fill "+f[0], chromedp.SendKeys(chromedp.CSS("#f-"+f[0]), f[1]))
		}
		b.do("submit on "+step.frag, chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)))
		b.waitJS("the dialog closed on "+step.frag, `!document.querySelector('dialog[open]')`)
		b.waitText("main table", step.shows)
		b.shot("09-" + strings.TrimPrefix(step.frag, "#/"))
	}
	opsTok := loginToken(t, p, "ops", "ops-pass-1")
	if code, body := p.get("/nacos/v1/ns/catalog/services", url.Values{"pageNo": {"1"}, "pageSize": {"10"}, "accessToken": {opsTok}}); code != 200 || !strings.Contains(body, `"web"`) {
		t.Fatalf("ops reading public after the console gave it read: %d %s", code, body)
	}
	b.open("#/cluster")
	b.waitJS("the cluster page", `!!document.querySelector('table.members tbody tr')`)
	b.shot("09-cluster")

	// Phone width.
	b.do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	b.open("#/service?name=web&group=DEFAULT_GROUP")
	b.waitJS("the detail on a phone", `!!document.querySelector('[data-cluster="DEFAULT"]')`)
	b.shot("10-service-phone")
	b.fitsWidth()
	b.open("#/services")
	b.waitJS("the list on a phone", `!!document.querySelector('table.services tbody tr')`)
	b.shot("10-services-phone")
	b.fitsWidth()
	b.do("laptop", chromedp.EmulateViewport(1280, 900))

	// 6. Log out, and be refused.
	b.open("#/services")
	b.waitJS("the list", `!!document.querySelector('table.services tbody tr')`)
	b.do("log out", chromedp.Click(chromedp.CSS("#logout")))
	b.waitText("main", "You are logged out.")
	b.open("#/services")
	b.waitJS("the login form instead of the list", `!!document.querySelector('#login-form') && !document.querySelector('table.services')`)
	var status int
	b.eval(`fetch('/nacos/v1/ns/catalog/services?pageNo=1&pageSize=10', {headers: {Authorization: 'Bearer ' + (sessionStorage.getItem('sextant.token') || '')}}).then(r => r.status)`, &status)
	if status != 403 {
		t.Fatalf("after logout the API answered the browser %d, want 403", status)
	}
	b.shot("11-logged-out")
	b.noExceptions()

	// The overview's history is fed from the node's own counters: by now a
	// sample holds the three instances, and the registrations, beats and
	// DNS queries above show as rates.
	waitFor(t, 20*time.Second, "the history to show the test's traffic", func() bool {
		var h struct {
			Samples []struct {
				Instances, Healthy               int
				Registrations, Beats, DNSQueries float64
			} `json:"samples"`
		}
		if json.Unmarshal([]byte(api("GET", "/nacos/v1/console/history", url.Values{})), &h) != nil {
			return false
		}
		var inst, reg, beats, queries bool
		for _, s := range h.Samples {
			inst = inst || s.Instances == 3
			reg, beats, queries = reg || s.Registrations > 0, beats || s.Beats > 0, queries || s.DNSQueries > 0
		}
		return inst && reg && beats && queries
	})
}

// TestConsoleClusterPage shows the members of a real three-node cluster,
// their states, the Raft leader and who owns how many services.
func TestConsoleClusterPage(t *testing.T) {
	chromiumPath(t)
	ps := startCluster3(t)
	for i := 0; i < 6; i++ {
		waitFor(t, 20*time.Second, "service created", func() bool {
			code, _ := ps[0].do("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {fmt.Sprintf("svc-%d", i)},
				"ip": {"127.0.0.5"}, "port": {fmt.Sprint(9000 + i)}})
			return code == 200
		})
	}
	b := newBrowser(t, "http://"+ps[1].httpAddr, 1280, 900)
	b.open("#/cluster")
	b.waitJS("three members, UP, one leader, six services owned", `(() => {
		const rows = [...document.querySelectorAll('table.members tbody tr')].map(r => [...r.cells].map(c => c.innerText.trim()));
		return rows.length === 3 && rows.every(r => r[1] === 'UP') &&
			rows.filter(r => r[2] === 'Leader').length === 1 &&
			rows.reduce((n, r) => n + Number(r[6]), 0) === 6;
	})()`)
	var term string
	b.eval(`document.querySelector('#raft-term').innerText`, &term)
	if term == "" || term == "0" {
		t.Fatalf("raft term %q", term)
	}
	b.shot("12-cluster-3")
	b.noExceptions()
}

// TestConsoleServiceListPagesOnTheServer: with 1,000 services the list
// asks the node for one page (20 rows, a few KB) and shows the count of
// all. It logs the time to first render of the list, from navigation to
// the table in the page, measured by the page itself (not asserted).
func TestConsoleServiceListPagesOnTheServer(t *testing.T) {
	chromiumPath(t)
	p := startSextant(t, "")
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				code, body := p.do("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {fmt.Sprintf("svc-%04d", i)},
					"ip": {"127.0.0.1"}, "port": {fmt.Sprint(20000 + i)}, "ephemeral": {"false"}})
				if code != 200 {
					errs <- fmt.Sprintf("register svc-%04d: %d %s", i, code, body)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}

	b := newBrowser(t, "http://"+p.httpAddr, 1280, 900)
	var renders, reqs []float64
	for round := 0; round < 5; round++ {
		b.do("blank", chromedp.Navigate("about:blank"))
		b.open("#/services")
		b.waitJS("the list rendered", `performance.getEntriesByName('sextant:services-rendered').length > 0`)
		var m struct {
			Render float64 `json:"render"`
			Rows   int     `json:"rows"`
			Pager  string  `json:"pager"`
			Bytes  float64 `json:"bytes"`
			Calls  int     `json:"calls"`
			Req    float64 `json:"req"`
		}
		b.eval(`(() => {
			const lists = performance.getEntriesByType('resource').filter(e => e.name.includes('/catalog/services'));
			return {
				render: performance.getEntriesByName('sextant:services-rendered')[0].startTime,
				rows: document.querySelectorAll('table.services tbody tr').length,
				pager: document.querySelector('.pager span').innerText,
				bytes: lists.length ? lists[0].decodedBodySize : -1,
				calls: lists.length,
				req: lists.length ? lists[0].duration : -1,
			};
		})()`, &m)
		if m.Rows != 20 || !strings.Contains(m.Pager, "Page 1 of 50 · 1000 services") || m.Calls != 1 || m.Bytes <= 0 || m.Bytes > 8192 {
			t.Fatalf("list of %d services: %+v; want 20 rows, the count of all, one request of a few KB", n, m)
		}
		renders = append(renders, m.Render)
		reqs = append(reqs, m.Req)
		if round == 0 {
			b.shot("13-services-1000")
			t.Logf("one page of the list: %d rows, %.0f bytes from the node", m.Rows, m.Bytes)
		}
	}
	slices.Sort(renders)
	slices.Sort(reqs)
	t.Logf("time to first render of the service list with %d services, 5 page loads: median %.0f ms, min %.0f ms, max %.0f ms; "+
		"the page's one list request: median %.1f ms", n, renders[2], renders[0], renders[4], reqs[2])
	// The last page holds the last 20 services, none of the first page.
	b.open("#/services?page=50")
	b.waitJS("page 50", `(document.querySelector('.pager span') || {}).innerText === 'Page 50 of 50 · 1000 services'`)
	var names []string
	var hash string
	b.eval(`[...document.querySelectorAll('table.services a.svc-link')].map(a => a.innerText)`, &names)
	if len(names) != 20 {
		t.Fatalf("page 50: %v", names)
	}
	// Search by name, on the server: svc-09xx are 100 services.
	b.open("#/services")
	b.waitJS("the search form", `!!document.querySelector('#service-search')`)
	b.do("search", chromedp.SendKeys(chromedp.CSS("#q-name"), "svc-09"+kb.Enter))
	b.waitJS("the search result", `(document.querySelector('.pager span') || {}).innerText === 'Page 1 of 5 · 100 services'`)
	b.eval(`[...document.querySelectorAll('table.services a.svc-link')].map(a => a.innerText)`, &names)
	for _, n := range names {
		if !strings.HasPrefix(n, "svc-09") {
			t.Fatalf("search svc-09 shows %v", names)
		}
	}
	b.eval(`location.hash`, &hash)
	if !strings.Contains(hash, "name=svc-09") {
		t.Fatalf("the search is not in the address: %q", hash)
	}
	b.noExceptions()
}
