package main

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	constv2 "github.com/nacos-group/nacos-sdk-go/v2/common/constant"
)

// upgradeFromEnv names a revision of this repository (a commit or a tag)
// that TestRollingUpgrade starts a cluster on before it replaces the
// members, one at a time, by this tree's binary. Unset, the test does not
// run: it builds a second tree (about 20 s more).
const upgradeFromEnv = "SEXTANT_UPGRADE_FROM"

// buildRevision builds cmd/sextant as it was at rev.
func buildRevision(t *testing.T, rev string) string {
	t.Helper()
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v", err)
	}
	dir := t.TempDir()
	archive := exec.Command("git", "-C", strings.TrimSpace(string(root)), "archive", rev)
	untar := exec.Command("tar", "-x", "-C", dir)
	if untar.Stdin, err = archive.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	var archiveErr strings.Builder
	archive.Stderr = &archiveErr
	if err := archive.Start(); err != nil {
		t.Fatal(err)
	}
	if out, err := untar.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	if err := archive.Wait(); err != nil {
		t.Fatalf("git archive %s: %v: %s", rev, err, archiveErr.String())
	}
	bin := filepath.Join(dir, "sextant-"+rev)
	build := exec.Command("go", "build", "-o", bin, "./cmd/sextant")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", rev, err, out)
	}
	return bin
}

// upgradeInstance is one instance the test keeps alive: ephemeral ones
// beat every second through a running member, as 1.x clients do.
type upgradeInstance struct{ service, ip string }

// TestRollingUpgrade runs a three-member cluster of an earlier revision
// (SEXTANT_UPGRADE_FROM), with 1.x clients beating over HTTP, a 2.x client
// over gRPC and a persistent instance, then replaces the members one at a
// time (SIGTERM, start this tree's binary on the same data directory and
// ports). Through the mixed-version phases every running member keeps
// listing every instance, registrations through a new and through an old
// member reach every member, and at the end a deregistration holds
// everywhere.
func TestRollingUpgrade(t *testing.T) {
	rev := os.Getenv(upgradeFromEnv)
	if rev == "" {
		t.Skipf("set %s=<revision> to upgrade a cluster from that revision of this repository", upgradeFromEnv)
	}
	old := buildRevision(t, rev)
	ps := startClusterWith(t, old, []string{"127.0.0.1", "127.0.0.1", "127.0.0.1"})
	var servers []constv2.ServerConfig
	for _, p := range ps {
		p.waitGRPC(t)
		servers = append(servers, constv2.ServerConfig{IpAddr: "127.0.0.1", Port: uint64(p.port()), GrpcPort: uint64(p.grpcPort()), ContextPath: "/nacos"})
	}

	var mu sync.Mutex
	down := map[int]bool{} // members being replaced
	var beating []upgradeInstance
	running := func() []*proc {
		mu.Lock()
		defer mu.Unlock()
		var out []*proc
		for i, p := range ps {
			if !down[i] {
				out = append(out, p)
			}
		}
		return out
	}
	register := func(p *proc, in upgradeInstance, ephemeral bool) {
		t.Helper()
		params := url.Values{"serviceName": {in.service}, "ip": {in.ip}, "port": {"80"}, "ephemeral": {fmt.Sprint(ephemeral)}}
		waitFor(t, 10*time.Second, "registering "+in.ip+" through "+p.httpAddr, func() bool {
			code, _ := p.do("POST", "/nacos/v1/ns/instance", params)
			return code == 200
		})
		if ephemeral {
			mu.Lock()
			beating = append(beating, in)
			mu.Unlock()
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the 1.x clients: a beat a second, through the next running member
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for n := 0; n < 600; n++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			mu.Lock()
			list := append([]upgradeInstance(nil), beating...)
			mu.Unlock()
			up := running()
			for j, in := range list {
				p := up[(n+j)%len(up)]
				code, body := p.do("PUT", "/nacos/v1/ns/instance/beat", url.Values{"serviceName": {in.service}, "ip": {in.ip}, "port": {"80"}})
				if code == 200 && strings.Contains(body, "20404") {
					// Not found: a real client registers again.
					p.do("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {in.service}, "ip": {in.ip}, "port": {"80"}})
				}
			}
		}
	}()
	defer wg.Wait()
	defer close(stop)

	var all []upgradeInstance
	for i, p := range ps {
		in := upgradeInstance{"upgrade-beat", fmt.Sprintf("10.80.0.%d", i+1)}
		register(p, in, true)
		all = append(all, in)
	}
	persistent := upgradeInstance{"upgrade-persistent", "10.80.2.1"}
	register(ps[0], persistent, false)
	all = append(all, persistent)
	client := newV2Client(t, servers, "", "")
	v2Register(t, client, "upgrade-grpc", "10.80.1.1")
	grpcInstance := upgradeInstance{"upgrade-grpc", "10.80.1.1"}
	listedEverywhere := func(what string, list []upgradeInstance) {
		t.Helper()
		for _, p := range running() {
			for _, in := range list {
				ip := in.ip
				waitFor(t, 15*time.Second, fmt.Sprintf("%s: %s on %s", what, ip, p.httpAddr), func() bool {
					return p.hasHealthy(t, "DEFAULT_GROUP@@"+in.service, ip)
				})
			}
		}
	}
	listedEverywhere("before the upgrade", append(all, grpcInstance))

	// Every running member keeps listing every instance registered so
	// far, whatever member is being replaced.
	watch := make(chan struct{})
	var lost []string
	var wwg sync.WaitGroup
	wwg.Add(1)
	go func() {
		defer wwg.Done()
		for n := 0; n < 1200; n++ {
			select {
			case <-watch:
				return
			case <-time.After(500 * time.Millisecond):
			}
			mu.Lock()
			list := append([]upgradeInstance(nil), all...)
			mu.Unlock()
			for _, p := range running() {
				for _, in := range append(list, grpcInstance) {
					code, body := p.get("/nacos/v1/ns/instance/list", url.Values{"serviceName": {"DEFAULT_GROUP@@" + in.service}})
					if code != 200 {
						continue // stopping or starting: not a member's answer
					}
					if !strings.Contains(body, `"ip":"`+in.ip+`"`) {
						mu.Lock()
						lost = append(lost, fmt.Sprintf("%s did not list %s at %s: %s", p.httpAddr, in.ip, time.Now().Format("15:04:05.000"), body))
						mu.Unlock()
					}
				}
			}
		}
	}()

	for i, p := range ps {
		mu.Lock()
		down[i] = true
		mu.Unlock()
		if err := p.stop(); err != nil {
			t.Fatalf("stopping member %d of %s: %v", i, rev, err)
		}
		p.bin = ""
		p.restart()
		p.waitGRPC(t)
		mu.Lock()
		down[i] = false
		mu.Unlock()
		// Writes through the new member and through an old one (or, once
		// all are new, the next) reach every member.
		fresh := []upgradeInstance{{"upgrade-beat", fmt.Sprintf("10.80.3.%d", i+1)}, {"upgrade-beat", fmt.Sprintf("10.80.4.%d", i+1)}}
		register(p, fresh[0], true)
		register(ps[(i+1)%len(ps)], fresh[1], true)
		listedEverywhere(fmt.Sprintf("after member %d was upgraded", i), fresh)
		mu.Lock()
		all = append(all, fresh...)
		mu.Unlock()
		listedEverywhere(fmt.Sprintf("after member %d was upgraded", i), append(all, grpcInstance))
	}
	close(watch)
	wwg.Wait()
	for _, l := range lost {
		t.Error(l)
	}

	// A deregistration through the upgraded cluster holds everywhere.
	mu.Lock()
	beating = beating[1:] // 10.80.0.1's client stops
	mu.Unlock()
	if code, body := ps[1].do("DELETE", "/nacos/v1/ns/instance", url.Values{"serviceName": {"upgrade-beat"}, "ip": {"10.80.0.1"}, "port": {"80"}}); code != 200 {
		t.Fatalf("deregister: %d %s", code, body)
	}
	listed := func(p *proc) bool {
		_, body := p.get("/nacos/v1/ns/instance/list", url.Values{"serviceName": {"DEFAULT_GROUP@@upgrade-beat"}})
		return strings.Contains(body, `"ip":"10.80.0.1"`)
	}
	for _, p := range ps {
		waitFor(t, 10*time.Second, "10.80.0.1 gone from "+p.httpAddr, func() bool { return !listed(p) })
	}
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		for _, p := range ps {
			if listed(p) {
				t.Fatalf("%s lists the deregistered 10.80.0.1 again", p.httpAddr)
			}
		}
	}
}
