package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"sextant/consensus/cluster"
)

func TestShippedConfigIsTheDefault(t *testing.T) {
	var cfg Config
	if err := loadConfigFile("../../etc/sextant.yaml", &cfg); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalise(cfg), normalise(DefaultConfig())) {
		t.Errorf("etc/sextant.yaml differs from the embedded defaults:\nfile:     %+v\ndefaults: %+v", cfg, DefaultConfig())
	}
}

// normalise treats a nil and an empty list alike.
func normalise(c Config) Config {
	if len(c.DNSRecursors) == 0 {
		c.DNSRecursors = nil
	}
	if len(c.Members) == 0 {
		c.Members = nil
	}
	if len(c.PushTrustedProxies) == 0 {
		c.PushTrustedProxies = nil
	}
	return c
}

func TestShippedConfigDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../../etc/sextant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range yamlKeys(reflect.TypeOf(Config{})) {
		if !strings.Contains(string(b), "\n"+key+":") {
			t.Errorf("etc/sextant.yaml does not document key %q", key)
		}
		if f := newServerFlags("x"); f.fs.Lookup(key) == nil {
			t.Errorf("key %q has no flag of the same name", key)
		}
	}
}

// yamlKeys lists the YAML keys of a configuration struct, those of the
// inline-embedded shared settings included.
func yamlKeys(typ reflect.Type) []string {
	var keys []string
	for _, f := range reflect.VisibleFields(typ) {
		if !f.Anonymous {
			keys = append(keys, f.Tag.Get("yaml"))
		}
	}
	return keys
}

func TestFlagsWinOverFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte("http-addr: 127.0.0.1:9000\ndns-ttl: 30s\ndns-zone: file.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := newServerFlags("x").parse([]string{"--config", path, "--dns-zone", "flag.", "--dns-recursors", "127.0.0.1:53, 127.0.0.2:53"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:9000" || cfg.DNSTTL != 30*time.Second {
		t.Errorf("file values not applied: %+v", cfg)
	}
	if cfg.DNSZone != "flag." {
		t.Errorf("flag did not win: zone %q", cfg.DNSZone)
	}
	if !reflect.DeepEqual(cfg.DNSRecursors, []string{"127.0.0.1:53", "127.0.0.2:53"}) {
		t.Errorf("recursors %q", cfg.DNSRecursors)
	}
	// A default-valued flag that was not given must not override the file.
	if cfg.DNSAddr != DefaultConfig().DNSAddr {
		t.Errorf("dns-addr %q", cfg.DNSAddr)
	}
}

func TestBadConfigIsRejected(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"unknown key":  "htp-addr: x\n",
		"bad duration": "dns-ttl: soon\n",
		"bad level":    "log-level: loud\n",
		"not yaml":     "{{{",
		"no budget":    "memory-budget: 0\n",
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yaml")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := newServerFlags("x").parse([]string{"--config", path}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := newServerFlags("x").parse([]string{"--config", filepath.Join(dir, "missing.yaml")}); err == nil {
		t.Error("missing file accepted")
	}
	empty := filepath.Join(dir, "empty.yaml")
	_ = os.WriteFile(empty, nil, 0o644)
	if cfg, err := newServerFlags("x").parse([]string{"--config", empty}); err != nil || !reflect.DeepEqual(cfg, DefaultConfig()) {
		t.Errorf("empty file: %v %+v", err, cfg)
	}
}

// TestShippedClusterConfParses: the example members file in etc/ is one a
// member accepts, and it means what its comments say.
func TestShippedClusterConfParses(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "etc", "cluster.conf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	members, err := cluster.ParseClusterConf(f)
	if err != nil {
		t.Fatalf("etc/cluster.conf: %v", err)
	}
	want := []string{"10.0.1.11:8848", "10.0.1.12:8848", "10.0.1.13:8848"}
	if !slices.Equal(members, want) {
		t.Fatalf("etc/cluster.conf lists %v, want %v", members, want)
	}
}
