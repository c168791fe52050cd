package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

const readmePath = "../../README.md"

// readmeSection returns the text of the "## title" section.
func readmeSection(t *testing.T, readme, title string) string {
	t.Helper()
	start := strings.Index(readme, "\n## "+title+"\n")
	if start < 0 {
		t.Fatalf("README has no section %q", title)
	}
	rest := readme[start+1:]
	if end := strings.Index(rest[3:], "\n## "); end >= 0 {
		rest = rest[:end+4]
	}
	return rest
}

// codeLines returns the command lines of the fenced blocks in text:
// comments and blank lines left out.
func codeLines(text string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "```") {
			in = !in
			continue
		}
		line = strings.TrimSpace(line)
		if in && line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReadmeTopCommands: the two commands at the top are there verbatim,
// and the defaults their comment announces are the binary's.
func TestReadmeTopCommands(t *testing.T) {
	text := readme(t)
	head := text[:strings.Index(text, "\n## ")]
	lines := codeLines(head)
	if len(lines) != 2 || lines[0] != "go run ./cmd/sextant server" || lines[1] != "go test -count=1 ./..." {
		t.Fatalf("the README's first block must be the two commands, got %q", lines)
	}
	m := regexp.MustCompile(`HTTP (\S+), gRPC (\S+), DNS (\S+), data in ([^\s)]+)`).FindStringSubmatch(head)
	if m == nil {
		t.Fatal("the first command's comment does not state the default addresses")
	}
	cfg, err := newServerFlags("server").parse(nil)
	if err != nil {
		t.Fatalf("`sextant server` without flags: %v", err)
	}
	grpcAddr, err := cfg.grpcAddr()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != m[1] || grpcAddr != m[2] || cfg.DNSAddr != m[3] || cfg.DataDir != m[4] {
		t.Errorf("README says HTTP %s, gRPC %s, DNS %s, data %s; the defaults are %s, %s, %s, %s",
			m[1], m[2], m[3], m[4], cfg.HTTPAddr, grpcAddr, cfg.DNSAddr, cfg.DataDir)
	}
}

// quickStartChecks: what a quick-start command must print, by a part of the
// command. The core ones must all be in the quick start.
var quickStartChecks = []struct {
	cmd, out string
	core     bool
}{
	{"-X POST", "ok", true},
	{"instance/list", `"ip":"127.0.0.10"`, true},
	{"orders.service.nacos A", "127.0.0.10", true},
	{"_tcp.service.nacos SRV", " 8080 ", true},
	{"instance/beat", "10200", false},
	{"instances --service orders", "127.0.0.10", false},
	{"/metrics", "sextant_instances{", false},
}

// TestReadmeQuickStart runs every command of the quick start against a
// running node, in order, with the node's addresses put in place of the
// documented defaults (the defaults themselves are checked above).
func TestReadmeQuickStart(t *testing.T) {
	lines := codeLines(readmeSection(t, readme(t), "Quick start"))
	if len(lines) < 4 {
		t.Fatalf("the quick start has %d commands", len(lines))
	}
	p := startSextant(t, "")
	_, dnsPort := splitHostPortT(t, p.dnsAddr)
	bin := sextantBinary(t)
	rewrite := strings.NewReplacer("127.0.0.1:8848", p.httpAddr, "-p 8600", "-p "+dnsPort, "go run ./cmd/sextant", bin)
	seen := map[string]bool{}
	for _, line := range lines {
		tool := strings.Fields(line)[0]
		if tool == "go" && !strings.HasPrefix(line, "go run ./cmd/sextant ") {
			t.Errorf("quick start line %q: only `go run ./cmd/sextant` is run here", line)
			continue
		}
		if _, err := exec.LookPath(tool); err != nil && tool != "go" {
			if tool != "dig" && tool != "curl" {
				t.Errorf("quick start line %q needs %s, which is not installed", line, tool)
			}
			t.Logf("%s is not installed: not run: %s", tool, line)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cmd := exec.CommandContext(ctx, "sh", "-c", rewrite.Replace(line))
		cmd.Env = append(os.Environ(), envServer+"="+p.httpAddr)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("quick start line %q: %v\n%s", line, err, out)
			continue
		}
		for _, c := range quickStartChecks {
			if strings.Contains(line, c.cmd) {
				seen[c.cmd] = true
				if !strings.Contains(string(out), c.out) {
					t.Errorf("quick start line %q printed no %q:\n%s", line, c.out, out)
				}
			}
		}
	}
	for _, c := range quickStartChecks {
		if c.core && !seen[c.cmd] {
			t.Errorf("the quick start has no command with %q", c.cmd)
		}
	}
}

func splitHostPortT(t *testing.T, addr string) (string, string) {
	t.Helper()
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		t.Fatalf("address %q", addr)
	}
	return addr[:i], addr[i+1:]
}

// sextantLine matches a README line that runs the binary.
var sextantLine = regexp.MustCompile(`^(?:go run \./cmd/sextant|\./sextant|sextant|.* -- /usr/local/bin/sextant)\s+(\S.*)$`)

// TestReadmeCommandLinesParse checks every sextant command line in the
// README against the binary's flags, without running it: server and
// gateway lines must give a valid configuration, operator commands must
// accept their flags.
func TestReadmeCommandLinesParse(t *testing.T) {
	n := 0
	for _, line := range codeLines(readme(t)) {
		m := sextantLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		rest, _, _ := strings.Cut(m[1], "#")
		args := strings.Fields(rest)
		n++
		switch args[0] {
		case "server":
			f := newServerFlags("server")
			f.fs.SetOutput(io.Discard)
			if _, err := f.parse(args[1:]); err != nil {
				t.Errorf("README line %q: %v", line, err)
			}
		case "gateway":
			if _, _, err := parseGatewayArgs(args[1:], io.Discard); err != nil {
				t.Errorf("README line %q: %v", line, err)
			}
		default:
			if strings.ContainsAny(rest, "[]") {
				args = args[:1] // a synopsis: only the command is checked
			}
			if code := run(append(args, "-h"), io.Discard, io.Discard); code != 0 {
				t.Errorf("README line %q: `sextant %s` does not accept these flags (exit %d)", line, strings.Join(args, " "), code)
			}
		}
	}
	if n < 8 {
		t.Errorf("found only %d sextant command lines in the README", n)
	}
}
