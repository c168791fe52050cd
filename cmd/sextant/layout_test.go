package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyRule keeps the architecture of DESIGN.md §1 true: naming
// imports nothing of ours; the fronts and the health checker do not reach
// consensus; fronts never import each other; gin, grpc, miekg/dns and
// hashicorp/raft each stay in their package.
func TestDependencyRule(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the go tool is needed for this test: %v", err)
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Deps " "}}`, "sextant/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, list, _ := strings.Cut(line, ":")
		deps[pkg] = strings.Fields(list)
	}
	if len(deps) < 5 {
		t.Fatalf("go list found only %d packages", len(deps))
	}
	has := func(pkg, prefix string) bool {
		for _, d := range deps[pkg] {
			if d == prefix || strings.HasPrefix(d, prefix+"/") {
				return true
			}
		}
		return false
	}
	for pkg := range deps {
		under := func(p string) bool { return pkg == p || strings.HasPrefix(pkg, p+"/") }
		if under("sextant/naming") {
			for _, d := range deps[pkg] {
				if strings.HasPrefix(d, "sextant/") && !strings.HasPrefix(d, "sextant/naming") {
					t.Errorf("%s imports %s: naming must import nothing else of ours", pkg, d)
				}
			}
		}
		if !under("sextant/cmd") && !under("sextant/consensus") && has(pkg, "sextant/consensus") {
			t.Errorf("%s imports consensus: only cmd may wire it in", pkg)
		}
		if !under("sextant/httpfront") && has(pkg, "github.com/gin-gonic/gin") && !under("sextant/cmd") {
			t.Errorf("%s imports gin: only httpfront may", pkg)
		}
		if !under("sextant/dnsfront") && has(pkg, "github.com/miekg/dns") && !under("sextant/cmd") {
			t.Errorf("%s imports miekg/dns: only dnsfront may", pkg)
		}
		if !under("sextant/grpcfront") && has(pkg, "google.golang.org/grpc") && !under("sextant/cmd") {
			t.Errorf("%s imports grpc: only grpcfront may", pkg)
		}
		for _, front := range []string{"sextant/httpfront", "sextant/grpcfront", "sextant/dnsfront"} {
			for _, other := range []string{"sextant/httpfront", "sextant/grpcfront", "sextant/dnsfront"} {
				if front != other && under(front) && has(pkg, other) {
					t.Errorf("%s imports %s: fronts never import each other", pkg, other)
				}
			}
		}
		if !under("sextant/consensus") && has(pkg, "github.com/hashicorp/raft") && !under("sextant/cmd") {
			t.Errorf("%s imports hashicorp/raft: only consensus may", pkg)
		}
	}
}
