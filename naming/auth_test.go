package naming

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// fakeHash has the shape of a bcrypt hash; the catalog never checks more.
func fakeHash(c byte) string { return "$2a$10$" + strings.Repeat(string(c), 53) }

func mustApply(t *testing.T, c *Catalog, op Op) {
	t.Helper()
	if err := c.Apply(op); err != nil {
		t.Fatalf("%s: %v", op.Kind, err)
	}
}

func TestAuthOpsLifecycle(t *testing.T) {
	c := NewCatalog()
	mustApply(t, c, Op{Kind: OpInitAuth, User: &User{Name: "nacos", Hash: fakeHash('a')}})
	if err := c.Apply(Op{Kind: OpInitAuth, User: &User{Name: "other", Hash: fakeHash('b')}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second init: %v", err)
	}
	a := c.Auth()
	if !a.Initialized || !a.IsAdmin("nacos") || a.IsAdmin("other") {
		t.Fatalf("after init: %+v", a)
	}
	mustApply(t, c, Op{Kind: OpCreateUser, User: &User{Name: "alice", Hash: fakeHash('c')}})
	if err := c.Apply(Op{Kind: OpCreateUser, User: &User{Name: "alice", Hash: fakeHash('d')}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate user: %v", err)
	}
	mustApply(t, c, Op{Kind: OpUpdateUser, User: &User{Name: "alice", Hash: fakeHash('e')}})
	if u, ok := c.Auth().FindUser("alice"); !ok || u.Hash != fakeHash('e') {
		t.Fatalf("update: %+v %v", u, ok)
	}
	if a.Users[0].Name != "nacos" || len(a.Users) != 1 {
		t.Fatal("an older view changed")
	}
	mustApply(t, c, Op{Kind: OpAddRole, Role: &RoleBinding{Role: "dev", Username: "alice"}})
	if err := c.Apply(Op{Kind: OpAddRole, Role: &RoleBinding{Role: "dev", Username: "ghost"}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("role for a missing user: %v", err)
	}
	mustApply(t, c, Op{Kind: OpAddPermission, Permission: &Permission{Role: "dev", Resource: "dev:*:*", Action: "rw"}})
	if got := c.Auth().RolesOf("alice"); len(got) != 1 || got[0] != "dev" {
		t.Fatalf("roles of alice: %v", got)
	}
	// The last administrator cannot be removed.
	if err := c.Apply(Op{Kind: OpDeleteUser, User: &User{Name: "nacos"}}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("delete last admin: %v", err)
	}
	if err := c.Apply(Op{Kind: OpDeleteRole, Role: &RoleBinding{Role: AdminRole}}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("drop last admin role: %v", err)
	}
	// Deleting a user drops its bindings.
	mustApply(t, c, Op{Kind: OpDeleteUser, User: &User{Name: "alice"}})
	if _, ok := c.Auth().FindUser("alice"); ok || len(c.Auth().RolesOf("alice")) != 0 {
		t.Fatal("alice or her roles survived")
	}
	mustApply(t, c, Op{Kind: OpDeletePermission, Permission: &Permission{Role: "dev", Resource: "dev:*:*", Action: "rw"}})
	if err := c.Apply(Op{Kind: OpDeletePermission, Permission: &Permission{Role: "dev", Resource: "dev:*:*", Action: "rw"}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete missing permission: %v", err)
	}
}

func TestAuthOpsRejectBadInput(t *testing.T) {
	c := NewCatalog()
	bad := []Op{
		{Kind: OpCreateUser},
		{Kind: OpCreateUser, User: &User{Name: "bob", Hash: "plain-password"}},
		{Kind: OpCreateUser, User: &User{Name: "bad name", Hash: fakeHash('a')}},
		{Kind: OpCreateUser, User: &User{Name: strings.Repeat("x", 65), Hash: fakeHash('a')}},
		{Kind: OpAddPermission, Permission: &Permission{Role: "r", Resource: "dev:*:*", Action: "x"}},
		{Kind: OpAddPermission, Permission: &Permission{Role: "r", Resource: "bad ns:*:*", Action: "r"}},
		{Kind: OpAddPermission, Permission: &Permission{Role: "r", Resource: "", Action: "r"}},
		{Kind: OpDeleteUser, User: &User{Name: "nobody"}},
		{Kind: OpUpdateUser, User: &User{Name: "nobody", Hash: fakeHash('a')}},
	}
	for i, op := range bad {
		if err := c.Apply(op); err == nil {
			t.Errorf("op %d (%s) accepted", i, op.Kind)
		}
	}
	if a := c.Auth(); a.Initialized || len(a.Users)+len(a.Roles)+len(a.Permissions) != 0 {
		t.Fatalf("rejected ops changed the state: %+v", a)
	}
}

func TestPermissionNamespace(t *testing.T) {
	cases := map[string]string{"dev:*:*": "dev", "dev": "dev", ":*:*": "public", "public:*:*": "public", "*": "*", "*:*:*": "*"}
	for in, want := range cases {
		if got, err := PermissionNamespace(in); err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestAuthStateTravelsInPersistentState checks that access control is
// part of what a snapshot stores, and that an old snapshot without it
// restores as empty.
func TestAuthStateTravelsInPersistentState(t *testing.T) {
	c := NewCatalog()
	mustApply(t, c, Op{Kind: OpInitAuth, User: &User{Name: "nacos", Hash: fakeHash('a')}})
	mustApply(t, c, Op{Kind: OpCreateUser, User: &User{Name: "bob", Hash: fakeHash('b')}})
	mustApply(t, c, Op{Kind: OpAddRole, Role: &RoleBinding{Role: "ops", Username: "bob"}})
	mustApply(t, c, Op{Kind: OpAddPermission, Permission: &Permission{Role: "ops", Resource: "*", Action: "r"}})
	b, err := json.Marshal(c.PersistentState())
	if err != nil {
		t.Fatal(err)
	}
	var st PersistentState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	d := NewCatalog()
	d.RestorePersistent(st, 1)
	got, want := d.Auth(), c.Auth()
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Fatalf("restored %s\nwant %s", gb, wb)
	}
	d.RestorePersistent(PersistentState{Switches: DefaultSwitches()}, 2)
	if a := d.Auth(); a.Initialized || len(a.Users) != 0 {
		t.Fatalf("a state without auth must restore as empty: %+v", a)
	}
}
