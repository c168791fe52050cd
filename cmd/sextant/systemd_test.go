package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnits checks the shipped units: systemd-analyze verify when the
// tool exists, and always the settings the node relies on.
func TestSystemdUnits(t *testing.T) {
	units, _ := filepath.Glob("../../systemd/*.service")
	if len(units) == 0 {
		t.Fatal("no units in systemd/")
	}
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, want := range []string{"Type=notify", "Restart=on-failure", "NoNewPrivileges=yes",
			"AmbientCapabilities=CAP_NET_BIND_SERVICE", "StateDirectory=", "LimitNOFILE=", "WatchdogSec=", "ExecReload="} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: missing %s", u, want)
			}
		}
		if !strings.Contains(text, "ExecStart=/usr/local/bin/sextant ") {
			t.Errorf("%s: ExecStart does not run the sextant binary", u)
		}
	}
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: units checked by content only")
		return
	}
	// verify needs the ExecStart binary to exist: point a copy of each unit
	// at a stand-in executable.
	dir := t.TempDir()
	stub := filepath.Join(dir, "sextant")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		b, _ := os.ReadFile(u)
		text := strings.ReplaceAll(string(b), "/usr/local/bin/sextant", stub)
		copyPath := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(copyPath, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sa, "verify", copyPath).CombinedOutput()
		for _, line := range strings.Split(string(out), "\n") {
			// Messages about the host's own units are not ours to fix.
			if strings.Contains(line, filepath.Base(u)) && !strings.Contains(line, "/etc/systemd") {
				t.Errorf("systemd-analyze verify %s: %s", filepath.Base(u), line)
			}
		}
		if err != nil && len(out) == 0 {
			t.Errorf("systemd-analyze verify %s: %v", filepath.Base(u), err)
		}
	}
}
