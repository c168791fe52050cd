package consensus

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sextant/naming"
)

// FuzzStandaloneSnapshot puts arbitrary bytes in snapshot.json and opens
// the data directory: opening must fail with an error or succeed, never
// panic, and a directory that opened must open again to the same state.
func FuzzStandaloneSnapshot(f *testing.F) {
	good := snapshotFile{Version: snapshotVersion, Seq: 3, State: naming.PersistentState{
		Switches:   naming.DefaultSwitches(),
		Namespaces: []naming.Namespace{{ID: "dev"}},
		Services:   []naming.PersistentService{{Key: svcA, Instances: []*naming.Instance{inst("10.0.0.1", false)}}},
		Auth: &naming.AuthState{Initialized: true, Users: []naming.User{{Name: "nacos", Hash: "$2a$10$" + strings.Repeat("a", 53)}},
			Roles: []naming.RoleBinding{{Role: naming.AdminRole, Username: "nacos"}}},
	}}
	b, err := jsonMarshal(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"version":1,"seq":0,"state":{"services":[{"key":{},"instances":[null]}]}}`))
	f.Add([]byte(`{"version":1,"seq":18446744073709551615,"state":{}}`))
	f.Add([]byte(`{"version":7}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, snapshotName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := testConfig(dir)
		cat := naming.NewCatalog()
		s, err := NewStandalone(cfg, cat, quietLog())
		if err != nil {
			return
		}
		first := persistentJSON(t, cat)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		again := naming.NewCatalog()
		s2, err := NewStandalone(testConfig(dir), again, quietLog())
		if err != nil {
			t.Fatalf("opened once, then refused: %v", err)
		}
		defer s2.Close()
		if persistentJSON(t, again) != first {
			t.Fatal("the same directory opened to different states")
		}
	})
}
