package naming

import (
	"sort"
	"strings"
)

// AdminRole is the role of global administrators (Nacos's ROLE_ADMIN): it
// grants every action on every namespace and the management of users.
const AdminRole = "ROLE_ADMIN"

// Limits on the access-control data, so that it stays small enough to be
// copied whole on every change.
const (
	MaxUsers       = 10000
	MaxRoles       = 10000
	MaxPermissions = 10000
)

// User is one account. Hash is a bcrypt hash of the password, made by the
// node that accepted the request: passwords never travel in ops or logs.
type User struct {
	Name string `json:"username"`
	Hash string `json:"passwordHash"`
}

// RoleBinding gives a user a role.
type RoleBinding struct {
	Role     string `json:"role"`
	Username string `json:"username"`
}

// Permission lets holders of Role act on Resource. Resource names a
// namespace as Nacos writes it ("<namespaceId>:*:*", or just the namespace
// id; "*" for all namespaces); Action is "r", "w" or "rw".
type Permission struct {
	Role     string `json:"role"`
	Resource string `json:"resource"`
	Action   string `json:"action"`
}

// AuthState is the access-control data: users, their roles and the roles'
// permissions. It is CP data, stored and replicated with the rest of the
// persistent state. Values returned by Catalog.Auth are never modified.
type AuthState struct {
	// Initialized is set once the first administrator was created, so that
	// deleting every user later does not re-create it.
	Initialized bool          `json:"initialized"`
	Users       []User        `json:"users,omitempty"`
	Roles       []RoleBinding `json:"roles,omitempty"`
	Permissions []Permission  `json:"permissions,omitempty"`
}

// FindUser returns the user called name.
func (a *AuthState) FindUser(name string) (User, bool) {
	i := sort.Search(len(a.Users), func(i int) bool { return a.Users[i].Name >= name })
	if i < len(a.Users) && a.Users[i].Name == name {
		return a.Users[i], true
	}
	return User{}, false
}

// RolesOf returns the roles of a user.
func (a *AuthState) RolesOf(name string) []string {
	var out []string
	for _, r := range a.Roles {
		if r.Username == name {
			out = append(out, r.Role)
		}
	}
	return out
}

// IsAdmin reports whether the user holds AdminRole.
func (a *AuthState) IsAdmin(name string) bool {
	for _, r := range a.Roles {
		if r.Username == name && r.Role == AdminRole {
			return true
		}
	}
	return false
}

func (a *AuthState) admins() int {
	n := 0
	for _, r := range a.Roles {
		if r.Role == AdminRole {
			n++
		}
	}
	return n
}

// clone returns a deep copy, to be changed and published in place of a.
func (a *AuthState) clone() *AuthState {
	return &AuthState{
		Initialized: a.Initialized,
		Users:       append([]User(nil), a.Users...),
		Roles:       append([]RoleBinding(nil), a.Roles...),
		Permissions: append([]Permission(nil), a.Permissions...),
	}
}

// sortAuth orders every list, so that equal states encode alike.
func sortAuth(a *AuthState) {
	sort.Slice(a.Users, func(i, j int) bool { return a.Users[i].Name < a.Users[j].Name })
	sort.Slice(a.Roles, func(i, j int) bool {
		x, y := a.Roles[i], a.Roles[j]
		if x.Role != y.Role {
			return x.Role < y.Role
		}
		return x.Username < y.Username
	})
	sort.Slice(a.Permissions, func(i, j int) bool {
		x, y := a.Permissions[i], a.Permissions[j]
		if x.Role != y.Role {
			return x.Role < y.Role
		}
		if x.Resource != y.Resource {
			return x.Resource < y.Resource
		}
		return x.Action < y.Action
	})
}

// IsAuth reports whether ops of kind change the access-control data.
func (k OpKind) IsAuth() bool { return k >= OpInitAuth && k <= OpDeletePermission }

// validateAuthOp checks the fields of an access-control op.
func validateAuthOp(op *Op) error {
	switch op.Kind {
	case OpInitAuth, OpCreateUser, OpUpdateUser:
		if op.User == nil {
			return Errorf(ErrInvalid, "Param 'username' is required.")
		}
		if err := ValidateName("username", op.User.Name); err != nil {
			return err
		}
		return validateHash(op.User.Hash)
	case OpDeleteUser:
		if op.User == nil {
			return Errorf(ErrInvalid, "Param 'username' is required.")
		}
		return ValidateName("username", op.User.Name)
	case OpAddRole, OpDeleteRole:
		if op.Role == nil {
			return Errorf(ErrInvalid, "Param 'role' is required.")
		}
		if err := ValidateName("role", op.Role.Role); err != nil {
			return err
		}
		if op.Kind == OpDeleteRole && op.Role.Username == "" {
			return nil // every binding of the role
		}
		return ValidateName("username", op.Role.Username)
	case OpAddPermission, OpDeletePermission:
		p := op.Permission
		if p == nil {
			return Errorf(ErrInvalid, "Param 'role' is required.")
		}
		if err := ValidateName("role", p.Role); err != nil {
			return err
		}
		if _, err := PermissionNamespace(p.Resource); err != nil {
			return err
		}
		switch p.Action {
		case "r", "w", "rw":
		default:
			return Errorf(ErrInvalid, "Param 'action' must be r, w or rw, got %q", p.Action)
		}
		return nil
	}
	return Errorf(ErrInvalid, "unknown operation %d", op.Kind)
}

// ValidateName accepts user and role names of 1 to 64 letters, digits and
// '-', '_', '.', '@'.
func ValidateName(what, s string) error {
	if s == "" || len(s) > 64 {
		return Errorf(ErrInvalid, "Param '%s' must hold 1 to 64 characters, got %d", what, len(s))
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.' || b == '@') {
			return Errorf(ErrInvalid, "Param '%s' may hold only letters, digits, '-', '_', '.' and '@': %q", what, s)
		}
	}
	return nil
}

// validateHash accepts what a bcrypt hash looks like ($2a$, $2b$ or $2y$,
// 60 characters), so that a plain password can never be stored by mistake.
func validateHash(h string) error {
	if len(h) != 60 || !(strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$") || strings.HasPrefix(h, "$2y$")) {
		return Errorf(ErrInvalid, "password hash is not a bcrypt hash")
	}
	return nil
}

// PermissionNamespace returns the namespace a permission resource names:
// "<ns>:*:*" or "<ns>" give ns ("" and "public" both mean public), "*"
// gives "*" (every namespace).
func PermissionNamespace(resource string) (string, error) {
	r := strings.TrimSpace(resource)
	if len(r) > 256 || !printable(r) {
		return "", Errorf(ErrInvalid, "Param 'resource' is illegal: %q", resource)
	}
	ns := r
	if i := strings.IndexByte(r, ':'); i >= 0 {
		ns = r[:i]
	}
	switch ns {
	case "*":
		return "*", nil
	case "", DefaultNamespace:
		if r == "" {
			return "", Errorf(ErrInvalid, "Param 'resource' is required.")
		}
		return DefaultNamespace, nil
	}
	if err := ValidateNamespaceID(ns); err != nil {
		return "", Errorf(ErrInvalid, "Param 'resource' must be '<namespaceId>:*:*': %q", resource)
	}
	return ns, nil
}

// applyAuth applies an access-control op. The caller holds c.mu.
func (c *Catalog) applyAuth(op *Op) error {
	cur := c.auth
	next := cur.clone()
	switch op.Kind {
	case OpInitAuth:
		if cur.Initialized {
			return Errorf(ErrConflict, "access control is initialised already")
		}
		next.Initialized = true
		next.Users = setUser(next.Users, *op.User)
		if !cur.IsAdmin(op.User.Name) {
			next.Roles = append(next.Roles, RoleBinding{Role: AdminRole, Username: op.User.Name})
		}
	case OpCreateUser:
		if _, ok := cur.FindUser(op.User.Name); ok {
			return Errorf(ErrConflict, "user '%s' already exist!", op.User.Name)
		}
		if len(cur.Users) >= MaxUsers {
			return Errorf(ErrTooLarge, "at most %d users are allowed", MaxUsers)
		}
		next.Users = append(next.Users, *op.User)
	case OpUpdateUser:
		if _, ok := cur.FindUser(op.User.Name); !ok {
			return Errorf(ErrNotFound, "user %s not exist!", op.User.Name)
		}
		next.Users = setUser(next.Users, *op.User)
	case OpDeleteUser:
		name := op.User.Name
		if _, ok := cur.FindUser(name); !ok {
			return Errorf(ErrNotFound, "user %s not exist!", name)
		}
		if cur.IsAdmin(name) && cur.admins() <= 1 {
			return Errorf(ErrForbidden, "cannot delete admin: %s, it is the last one", name)
		}
		next.Users = next.Users[:0]
		for _, u := range cur.Users {
			if u.Name != name {
				next.Users = append(next.Users, u)
			}
		}
		next.Roles = next.Roles[:0]
		for _, r := range cur.Roles {
			if r.Username != name {
				next.Roles = append(next.Roles, r)
			}
		}
	case OpAddRole:
		b := *op.Role
		if _, ok := cur.FindUser(b.Username); !ok {
			return Errorf(ErrNotFound, "user '%s' not found!", b.Username)
		}
		for _, r := range cur.Roles {
			if r == b {
				return Errorf(ErrConflict, "user '%s' already bound to the role '%s'!", b.Username, b.Role)
			}
		}
		if len(cur.Roles) >= MaxRoles {
			return Errorf(ErrTooLarge, "at most %d role bindings are allowed", MaxRoles)
		}
		next.Roles = append(next.Roles, b)
	case OpDeleteRole:
		b := *op.Role
		next.Roles = next.Roles[:0]
		removedAdmins := 0
		for _, r := range cur.Roles {
			if r.Role == b.Role && (b.Username == "" || r.Username == b.Username) {
				if r.Role == AdminRole {
					removedAdmins++
				}
				continue
			}
			next.Roles = append(next.Roles, r)
		}
		if len(next.Roles) == len(cur.Roles) {
			return Errorf(ErrNotFound, "role '%s' not found!", b.Role)
		}
		if removedAdmins > 0 && removedAdmins >= cur.admins() {
			return Errorf(ErrForbidden, "cannot remove the role %s from the last administrator", AdminRole)
		}
	case OpAddPermission:
		p := *op.Permission
		for _, x := range cur.Permissions {
			if x == p {
				return Errorf(ErrConflict, "permission already exist!")
			}
		}
		if len(cur.Permissions) >= MaxPermissions {
			return Errorf(ErrTooLarge, "at most %d permissions are allowed", MaxPermissions)
		}
		next.Permissions = append(next.Permissions, p)
	case OpDeletePermission:
		p := *op.Permission
		next.Permissions = next.Permissions[:0]
		for _, x := range cur.Permissions {
			if x != p {
				next.Permissions = append(next.Permissions, x)
			}
		}
		if len(next.Permissions) == len(cur.Permissions) {
			return Errorf(ErrNotFound, "permission not found!")
		}
	default:
		return Errorf(ErrInvalid, "unknown operation %d", op.Kind)
	}
	sortAuth(next)
	c.auth = next
	return nil
}

func setUser(list []User, u User) []User {
	for i := range list {
		if list[i].Name == u.Name {
			list[i] = u
			return list
		}
	}
	return append(list, u)
}

// Auth returns the current access-control data. The value is immutable:
// every change publishes a new one.
func (c *Catalog) Auth() *AuthState {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.auth
}
