package main

import (
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

// libraryOwners says, for every third-party library the product imports,
// which of our packages may import it directly (a package and the packages
// below it). A library missing from this table fails the test, so a new
// dependency is placed on purpose. cmd/ is held to it like the rest.
var libraryOwners = map[string][]string{
	"github.com/gin-gonic/gin":               {"sextant/httpfront"},
	"github.com/valyala/fasthttp":            {"sextant/httpfront"},
	"github.com/miekg/dns":                   {"sextant/dnsfront", benchTool},
	"golang.org/x/sys":                       {"sextant/dnsfront", benchTool},
	"github.com/hashicorp/raft":              {"sextant/consensus/raftcp"},
	"github.com/hashicorp/raft-boltdb/v2":    {"sextant/consensus/raftcp"},
	"github.com/hashicorp/go-hclog":          {"sextant/consensus/raftcp"},
	"go.etcd.io/bbolt":                       {"sextant/consensus/raftcp"},
	"google.golang.org/grpc":                 {"sextant/grpcfront", benchTool},
	"google.golang.org/protobuf":             {"sextant/grpcfront"},
	"golang.org/x/crypto":                    {"sextant/httpfront/auth"},
	"github.com/prometheus/client_golang":    {"sextant/cmd/sextant"},
	"gopkg.in/yaml.v3":                       {"sextant/cmd/sextant"},
	"github.com/patrickmn/go-cache":          {"sextant/cmd/sextant", "sextant/httpfront/push", "sextant/httpfront/auth"},
	"github.com/sirupsen/logrus":             {"sextant/cmd/sextant", "sextant/client", "sextant/consensus", "sextant/dnsfront", "sextant/healthcheck", "sextant/httpfront", "sextant/grpcfront"},
	"github.com/anishathalye/porcupine":      nil, // tests only
	"github.com/nacos-group/nacos-sdk-go":    nil, // tests only: the real 1.x client
	"github.com/nacos-group/nacos-sdk-go/v2": nil, // tests only: the real 2.x client
	"github.com/chromedp/chromedp":           nil, // tests only: the console in a real browser
}

// benchTool is the benchmark harness. It is not part of the product: its
// reference DNS server is by definition a plain miekg/dns server, and its
// load generator reads answers with the same library, so it may import
// miekg/dns (and x/sys for its socket options) without going through
// dnsfront; its gRPC load opens raw Nacos 2.x connections, as many as a
// fleet of clients would, with grpc itself.
const benchTool = "sextant/cmd/sextant-bench"

// testOnly lists libraries that tests may import beside their owner's
// package: clients the tests drive the product with.
var testOnly = map[string]bool{
	"github.com/anishathalye/porcupine":      true,
	"github.com/nacos-group/nacos-sdk-go":    true,
	"github.com/nacos-group/nacos-sdk-go/v2": true,
	"github.com/chromedp/chromedp":           true,
	"github.com/chromedp/cdproto":            true,
	"github.com/miekg/dns":                   true, // the DNS client of end-to-end tests
	"github.com/prometheus/client_model":     true, // reading metrics in tests
	"github.com/prometheus/common":           true,
	"github.com/sirupsen/logrus":             true,
	"github.com/hashicorp/raft":              true,
	"google.golang.org/grpc":                 true, // raw gRPC clients sending the Java client's shapes
	"google.golang.org/protobuf":             true,
	"golang.org/x/crypto":                    true,
}

// library returns the library an import path belongs to: the longest key
// of libraryOwners that is the path or a prefix of it, else the path's
// first three elements (so an unlisted library is reported by its module).
func library(path string) (string, bool) {
	best := ""
	for lib := range libraryOwners {
		if (path == lib || strings.HasPrefix(path, lib+"/")) && len(lib) > len(best) {
			best = lib
		}
	}
	if best != "" {
		return best, true
	}
	parts := strings.SplitN(path, "/", 4)
	return strings.Join(parts[:min(3, len(parts))], "/"), false
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func under(pkg, p string) bool { return pkg == p || strings.HasPrefix(pkg, p+"/") }

// TestDependencyRule keeps the architecture of ARCHITECTURE.md true: naming
// and nacoswire import nothing of ours, the client only nacoswire and
// internal/; the fronts never import each other; nothing but
// cmd reaches consensus; and each third-party library is imported only by
// the packages libraryOwners names.
func TestDependencyRule(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the go tool is needed for this test: %v", err)
	}
	out, err := exec.Command("go", "list", "-f",
		`{{.ImportPath}}|{{join .Imports " "}}|{{join .TestImports " "}} {{join .XTestImports " "}}`, "sextant/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkgImports struct{ prod, test []string }
	pkgs := map[string]pkgImports{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "|", 3)
		if len(f) != 3 {
			t.Fatalf("go list line %q", line)
		}
		pkgs[f[0]] = pkgImports{strings.Fields(f[1]), strings.Fields(f[2])}
	}
	if len(pkgs) < 8 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	fronts := []string{"sextant/httpfront", "sextant/dnsfront", "sextant/grpcfront"}
	var unlisted []string
	for pkg, imp := range pkgs {
		for _, d := range imp.prod {
			switch {
			case strings.HasPrefix(d, "sextant/"):
				if under(pkg, "sextant/naming") && !under(d, "sextant/naming") {
					t.Errorf("%s imports %s: naming must import nothing else of ours", pkg, d)
				}
				if under(pkg, "sextant/nacoswire") {
					t.Errorf("%s imports %s: the wire model imports nothing of ours, so the client can use it", pkg, d)
				}
				if under(pkg, "sextant/client") && !under(d, "sextant/client") && !under(d, "sextant/nacoswire") && !under(d, "sextant/internal") {
					t.Errorf("%s imports %s: the client uses only nacoswire and internal/ of ours", pkg, d)
				}
				if under(d, "sextant/consensus") && !under(pkg, "sextant/cmd") && !under(pkg, "sextant/consensus") {
					t.Errorf("%s imports %s: only cmd may wire consensus in", pkg, d)
				}
				for _, a := range fronts {
					for _, b := range fronts {
						if a != b && under(pkg, a) && under(d, b) {
							t.Errorf("%s imports %s: fronts never import each other", pkg, d)
						}
					}
				}
			case isStd(d):
			default:
				lib, known := library(d)
				if !known {
					unlisted = append(unlisted, lib+" (imported by "+pkg+")")
					continue
				}
				if !slices.ContainsFunc(libraryOwners[lib], func(owner string) bool { return under(pkg, owner) }) {
					t.Errorf("%s imports %s: only %v may", pkg, d, libraryOwners[lib])
				}
			}
		}
		for _, d := range imp.test {
			if strings.HasPrefix(d, "sextant/") || isStd(d) {
				continue
			}
			lib, known := library(d)
			if !known {
				first := strings.Join(strings.SplitN(d, "/", 4)[:min(3, len(strings.SplitN(d, "/", 4)))], "/")
				if testOnly[first] {
					continue
				}
				unlisted = append(unlisted, lib+" (imported by tests of "+pkg+")")
				continue
			}
			if !testOnly[lib] && !slices.ContainsFunc(libraryOwners[lib], func(owner string) bool { return under(pkg, owner) }) {
				t.Errorf("tests of %s import %s: only %v may", pkg, d, libraryOwners[lib])
			}
		}
	}
	sort.Strings(unlisted)
	for _, u := range slices.Compact(unlisted) {
		t.Errorf("%s: a library missing from libraryOwners; say which package owns it", u)
	}
}

// TestLibraryOwnersExist keeps the table honest: every owner it names is a
// package of ours.
func TestLibraryOwnersExist(t *testing.T) {
	out, err := exec.Command("go", "list", "sextant/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	all := strings.Fields(string(out))
	for lib, owners := range libraryOwners {
		for _, o := range owners {
			if !slices.ContainsFunc(all, func(p string) bool { return under(p, o) }) {
				t.Errorf("libraryOwners[%s] names %s, which is no package of ours", lib, o)
			}
		}
	}
}
