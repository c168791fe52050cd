package main

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// cli runs an operator command in this process against addr.
func cli(t *testing.T, addr string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{args[0], "--server", addr}, args[1:]...)
	code = run(full, &out, &errb)
	return code, out.String(), errb.String()
}

// rowOf returns the fields of the first table line that starts with key.
func rowOf(table, key string) []string {
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == key {
			return f
		}
	}
	return nil
}

func TestCLIAgainstARunningNode(t *testing.T) {
	p := startSextant(t, "")
	addr := p.httpAddr
	// The persistent instance listens, so the node's TCP probe finds it healthy.
	ln, err := net.Listen("tcp", "127.0.0.31:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	code, out, errs := cli(t, addr, "register", "--service", "orders", "--ip", "127.0.0.31", "--port", port,
		"--weight", "3", "--metadata", "zone=a", "--metadata", "version=2")
	if code != 0 || !strings.Contains(out, "registered 127.0.0.31:"+port) {
		t.Fatalf("register: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if code, out, errs = cli(t, addr, "register", "--service", "orders", "--ip", "127.0.0.32", "--port", "8080", "--ephemeral"); code != 0 {
		t.Fatalf("register ephemeral: exit %d %q %q", code, out, errs)
	}
	if code, out, errs = cli(t, addr, "register", "--service", "billing", "--group", "PAY", "--ip", "127.0.0.33", "--port", "9090",
		"--cluster", "EAST", "--metadata", `{"tier":"gold"}`); code != 0 {
		t.Fatalf("register billing: exit %d %q %q", code, out, errs)
	}

	// What register wrote is what the API lists.
	hosts := p.list(t, "orders")
	if len(hosts) != 2 {
		t.Fatalf("orders has %d instances over the API, want 2: %v", len(hosts), hosts)
	}
	for _, h := range hosts {
		if h["ip"] == "127.0.0.31" {
			md, _ := h["metadata"].(map[string]any)
			if h["weight"] != 3.0 || h["ephemeral"] != false || md["zone"] != "a" || md["version"] != "2" {
				t.Errorf("registered instance is %v", h)
			}
		}
	}

	code, out, errs = cli(t, addr, "services")
	if code != 0 {
		t.Fatalf("services: exit %d %q", code, errs)
	}
	if r := rowOf(out, "orders"); len(r) != 6 || r[1] != "DEFAULT_GROUP" || r[2] != "2" || r[3] != "2" {
		t.Errorf("services row for orders is %q in\n%s", r, out)
	}
	if r := rowOf(out, "billing"); len(r) != 6 || r[1] != "PAY" {
		t.Errorf("services row for billing is %q in\n%s", r, out)
	}
	if !strings.HasPrefix(out, "SERVICE") {
		t.Errorf("services table has no header:\n%s", out)
	}
	if code, out, _ = cli(t, addr, "services", "--group", "PAY"); code != 0 || rowOf(out, "orders") != nil || rowOf(out, "billing") == nil {
		t.Errorf("services --group PAY: exit %d\n%s", code, out)
	}

	code, out, errs = cli(t, addr, "instances", "--service", "orders")
	if code != 0 {
		t.Fatalf("instances: exit %d %q", code, errs)
	}
	// IP PORT CLUSTER WEIGHT HEALTHY ENABLED EPHEMERAL CHECK METADATA
	if r := rowOf(out, "127.0.0.31"); len(r) < 9 || r[1] != port || r[2] != "DEFAULT" || r[3] != "3" || r[4] != "yes" ||
		r[6] != "no" || r[len(r)-1] != "version=2,zone=a" {
		t.Errorf("instances row is %q in\n%s", r, out)
	}
	if r := rowOf(out, "127.0.0.32"); len(r) < 9 || r[6] != "yes" {
		t.Errorf("ephemeral instance row is %q in\n%s", r, out)
	}
	if code, out, _ = cli(t, addr, "instances", "--service", "PAY@@billing"); code != 0 || rowOf(out, "127.0.0.33") == nil {
		t.Errorf("instances of a grouped name: exit %d\n%s", code, out)
	}

	code, out, _ = cli(t, addr, "members")
	if r := rowOf(out, addr); code != 0 || len(r) < 4 || r[1] != "UP" || r[3] != "yes" || r[len(r)-1] != "0" {
		t.Errorf("members: exit %d, row %q in\n%s", code, r, out)
	}

	if code, out, errs = cli(t, addr, "deregister", "--service", "orders", "--ip", "127.0.0.31", "--port", port); code != 0 {
		t.Fatalf("deregister: exit %d %q %q", code, out, errs)
	}
	if hosts := p.list(t, "orders"); len(hosts) != 1 {
		t.Errorf("after deregister orders has %d instances", len(hosts))
	}

	// Failures: 1 when the node refuses or cannot be reached, 2 for usage.
	if code, _, errs = cli(t, addr, "instances", "--service", "nosuch"); code != 1 || !strings.Contains(errs, "404") {
		t.Errorf("instances of a missing service: exit %d, stderr %q", code, errs)
	}
	if code, _, errs = cli(t, addr, "register", "--service", "orders", "--ip", "127.0.0.1", "--port", "80", "--metadata",
		"k="+strings.Repeat("x", 70<<10)); code != 1 {
		t.Errorf("register refused by the node: exit %d, stderr %q", code, errs)
	}
	closed := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	if code, _, errs = cli(t, closed, "members"); code != 1 || !strings.Contains(errs, closed) {
		t.Errorf("unreachable node: exit %d, stderr %q", code, errs)
	}
	// A list of nodes is tried in turn.
	if code, _, errs = cli(t, closed+","+addr, "members"); code != 0 {
		t.Errorf("second node of a list: exit %d, stderr %q", code, errs)
	}
	for _, args := range [][]string{
		{"register", "--ip", "127.0.0.1", "--port", "80"},
		{"register", "--service", "x", "--ip", "not-an-ip", "--port", "80"},
		{"register", "--service", "x", "--ip", "127.0.0.1", "--port", "0"},
		{"register", "--service", "x", "--ip", "127.0.0.1", "--port", "80", "--metadata", "novalue"},
		{"deregister", "--service", "x"},
		{"instances"},
		{"services", "extra"},
		{"members", "--no-such-flag"},
	} {
		if code, _, errs := cli(t, addr, args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d (want 2), stderr %q", args, code, errs)
		}
	}
}

// TestCLIBinaryExitCodes runs the built binary, as a script would, with
// the server taken from SEXTANT_SERVER.
func TestCLIBinaryExitCodes(t *testing.T) {
	p := startSextant(t, "")
	cmd := exec.Command(sextantBinary(t), "register", "--service", "web", "--ip", "127.0.0.41", "--port", "80")
	cmd.Env = append(cmd.Environ(), "SEXTANT_SERVER="+p.httpAddr)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("register: %v\n%s", err, out)
	}
	cmd = exec.Command(sextantBinary(t), "instances", "--service", "web")
	cmd.Env = append(cmd.Environ(), "SEXTANT_SERVER="+p.httpAddr)
	out, err := cmd.Output()
	if err != nil || rowOf(string(out), "127.0.0.41") == nil {
		t.Fatalf("instances: %v\n%s", err, out)
	}
	cmd = exec.Command(sextantBinary(t), "instances")
	if err := cmd.Run(); err == nil || cmd.ProcessState.ExitCode() != 2 {
		t.Errorf("instances without --service: %v", err)
	}
}
