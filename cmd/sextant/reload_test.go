package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGHUPReloadsLogLevelAndMembers: SIGHUP re-reads the config file's
// log level and the cluster.conf member list; a bad member list is refused
// and the node keeps serving.
func TestSIGHUPReloadsLogLevelAndMembers(t *testing.T) {
	dir := t.TempDir()
	port := clusterPort(t, map[int]bool{})
	httpAddr := fmt.Sprintf("127.0.0.1:%d", port)
	conf := filepath.Join(dir, "cluster.conf")
	cfgFile := filepath.Join(dir, "sextant.yaml")
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(conf, "# the only member\n"+httpAddr+"\n")
	write(cfgFile, "log-level: info\n")
	p := &proc{t: t, dataDir: filepath.Join(dir, "data"), httpAddr: httpAddr, dnsAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	p.args = []string{"server", "--config", cfgFile, "--http-addr", p.httpAddr, "--dns-addr", p.dnsAddr,
		"--data-dir", p.dataDir, "--cluster-conf", conf}
	p.start()

	hup := func(want string) {
		t.Helper()
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "log line "+want, func() bool { return strings.Count(p.logs.String(), want) >= 1 })
	}
	write(cfgFile, "log-level: debug\n")
	hup("member list reloaded")
	if !strings.Contains(p.logs.String(), "log-level=debug") {
		t.Errorf("SIGHUP did not reload the log level:\n%s", p.logs.String())
	}
	// A list that no longer names this node is refused.
	write(conf, "127.0.0.1:1\n")
	hup("keeping the current member list")
	if code, _ := p.get("/nacos/v1/console/health/readiness", nil); code != 200 {
		t.Errorf("readiness after a refused reload: %d", code)
	}
}
