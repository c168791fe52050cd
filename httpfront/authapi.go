package httpfront

import (
	"context"
	"net/http"

	"sextant/httpfront/auth"
	"sextant/naming"
)

// Paths of the auth API (Nacos 1.x: UserController, RoleController,
// PermissionController).
const authPrefix = "/nacos/v1/auth"

// authRoutes declares login and the management of users, roles and
// permissions, when a Guard is configured. They need nothing of the
// pipeline's access check: login is open, and management checks for
// itself (adminOnly, or the caller's own user).
func (s *Server) authRoutes(t *table) {
	const get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	a := func(m, path string, fn handler) { t.add(m, authPrefix+path, needNone, fn) }
	a(post, "/users/login", s.login)
	a(post, "/login", s.login)
	if s.cfg.Auth == nil {
		return
	}
	a(get, "/users/search", s.adminOnly(s.searchUsers))
	a(get, "/roles/search", s.adminOnly(s.searchRoles))
	a(put, "/users/password", s.changeOwnPassword)
	a(post, "/users/admin", s.createAdmin)
	a(get, "/users", s.adminOnly(s.listUsers))
	a(post, "/users", s.adminOnly(s.createUser))
	a(put, "/users", s.updateUser)
	a(del, "/users", s.adminOnly(s.deleteUser))
	a(get, "/roles", s.adminOnly(s.listRoles))
	a(post, "/roles", s.adminOnly(s.addRole))
	a(del, "/roles", s.adminOnly(s.deleteRole))
	a(get, "/permissions", s.adminOnly(s.listPermissions))
	a(post, "/permissions", s.adminOnly(s.addPermission))
	a(del, "/permissions", s.adminOnly(s.deletePermission))
}

// login serves POST /auth/users/login and /auth/login (username,
// password): {"accessToken","tokenTtl","globalAdmin","username"} and the
// token in an Authorization header; 403 "unknown user!" otherwise. With
// access control off it answers every login so, with a token nothing
// checks (openLogin).
func (s *Server) login(ctx context.Context, p *request) answer {
	if s.cfg.Auth == nil || !s.cfg.Auth.Enabled() {
		return s.openLogin(ctx, p)
	}
	sess, err := s.cfg.Auth.Login(p.get("username"), p.get("password"), p.source)
	if err != nil {
		return deny(err)
	}
	return s.jsonAnswer(map[string]any{
		"accessToken": sess.Token,
		"tokenTtl":    int64(sess.TTL.Seconds()),
		"globalAdmin": sess.GlobalAdmin,
		"username":    sess.Username,
	}).with("Authorization", "Bearer "+sess.Token)
}

// adminOnly lets only administrators through (everyone with auth off).
func (s *Server) adminOnly(fn handler) handler {
	return func(ctx context.Context, p *request) answer {
		if _, err := s.cfg.Auth.Check(credentials(p), "", auth.Admin); err != nil {
			return deny(err)
		}
		return fn(ctx, p)
	}
}

// restOK is the RestResult Nacos answers user management with.
func (s *Server) restOK(msg string) answer {
	return s.jsonAnswer(map[string]any{"code": 200, "message": msg, "data": nil})
}

// nacosPage is Nacos's Page envelope.
func nacosPage[T any](items []T, no, size int) map[string]any {
	from, to := pageOf(len(items), no, size)
	pages := (len(items) + size - 1) / size
	out := append([]T{}, items[from:to]...)
	return map[string]any{"totalCount": len(items), "pageNumber": no, "pagesAvailable": pages, "pageItems": out}
}

// pageParams reads pageNo and pageSize, defaulting to the first 100.
func pageParams(p *request) (int, int, error) {
	no, err := p.integer("pageNo", 1, 1, 1<<30)
	if err != nil {
		return 0, 0, err
	}
	size, err := p.integer("pageSize", 100, 1, 10000)
	return no, size, err
}

// listUsers serves GET /auth/users (pageNo, pageSize). Hashes are not shown.
func (s *Server) listUsers(ctx context.Context, p *request) answer {
	no, size, err := pageParams(p)
	if err != nil {
		return bad(err)
	}
	type userJSON struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	var out []userJSON
	for _, u := range s.cfg.Auth.State().Users {
		out = append(out, userJSON{Username: u.Name})
	}
	return s.jsonAnswer(nacosPage(out, no, size))
}

// createUser serves POST /auth/users (username, password).
func (s *Server) createUser(ctx context.Context, p *request) answer {
	name, err := p.required("username")
	if err != nil {
		return bad(err)
	}
	pw, err := p.required("password")
	if err != nil {
		return bad(err)
	}
	return s.applyUser(ctx, naming.OpCreateUser, name, pw, "create user ok!")
}

// updateUser serves PUT /auth/users (username, newPassword): an
// administrator may change any password, a user only its own.
func (s *Server) updateUser(ctx context.Context, p *request) answer {
	name, err := p.required("username")
	if err != nil {
		return bad(err)
	}
	pw, err := p.required("newPassword")
	if err != nil {
		return bad(err)
	}
	g := s.cfg.Auth
	id, err := g.Check(credentials(p), "", auth.Authenticated)
	if err != nil {
		return deny(err)
	}
	if g.Enabled() && !id.Admin && id.Username != name {
		return deny(&naming.Error{Kind: auth.ErrDenied, Msg: "authorization failed!"})
	}
	return s.applyUser(ctx, naming.OpUpdateUser, name, pw, "update user ok!")
}

func (s *Server) applyUser(ctx context.Context, kind naming.OpKind, name, pw, msg string) answer {
	if err := naming.ValidateName("username", name); err != nil {
		return bad(err)
	}
	hash, err := s.cfg.Auth.HashPassword(pw)
	if err != nil {
		return bad(err)
	}
	if err := s.applyIn(ctx, naming.Op{Kind: kind, User: &naming.User{Name: name, Hash: hash}}); err != nil {
		return bad(err)
	}
	return s.restOK(msg)
}

// deleteUser serves DELETE /auth/users (username).
func (s *Server) deleteUser(ctx context.Context, p *request) answer {
	name, err := p.required("username")
	if err != nil {
		return bad(err)
	}
	if err := s.applyIn(ctx, naming.Op{Kind: naming.OpDeleteUser, User: &naming.User{Name: name}}); err != nil {
		return bad(err)
	}
	return s.restOK("delete user ok!")
}

// listRoles serves GET /auth/roles (pageNo, pageSize, username filter).
func (s *Server) listRoles(ctx context.Context, p *request) answer {
	no, size, err := pageParams(p)
	if err != nil {
		return bad(err)
	}
	who := p.get("username")
	out := []naming.RoleBinding{}
	for _, r := range s.cfg.Auth.State().Roles {
		if who == "" || r.Username == who {
			out = append(out, r)
		}
	}
	return s.jsonAnswer(nacosPage(out, no, size))
}

// addRole serves POST /auth/roles (role, username).
func (s *Server) addRole(ctx context.Context, p *request) answer {
	b := naming.RoleBinding{Role: p.get("role"), Username: p.get("username")}
	if err := s.applyIn(ctx, naming.Op{Kind: naming.OpAddRole, Role: &b}); err != nil {
		return bad(err)
	}
	return s.restOK("add role ok!")
}

// deleteRole serves DELETE /auth/roles (role, and username, or every
// holder of the role).
func (s *Server) deleteRole(ctx context.Context, p *request) answer {
	b := naming.RoleBinding{Role: p.get("role"), Username: p.get("username")}
	if err := s.applyIn(ctx, naming.Op{Kind: naming.OpDeleteRole, Role: &b}); err != nil {
		return fail(err, http.StatusNotFound)
	}
	msg := "delete role of user " + b.Username + " ok!"
	if b.Username == "" {
		msg = "delete role ok!"
	}
	return s.restOK(msg)
}

// listPermissions serves GET /auth/permissions (role filter, pageNo, pageSize).
func (s *Server) listPermissions(ctx context.Context, p *request) answer {
	no, size, err := pageParams(p)
	if err != nil {
		return bad(err)
	}
	role := p.get("role")
	out := []naming.Permission{}
	for _, x := range s.cfg.Auth.State().Permissions {
		if role == "" || x.Role == role {
			out = append(out, x)
		}
	}
	return s.jsonAnswer(nacosPage(out, no, size))
}

func permissionOf(p *request) naming.Permission {
	return naming.Permission{Role: p.get("role"), Resource: p.get("resource"), Action: p.get("action")}
}

// addPermission serves POST /auth/permissions (role, resource, action).
func (s *Server) addPermission(ctx context.Context, p *request) answer {
	x := permissionOf(p)
	if err := s.applyIn(ctx, naming.Op{Kind: naming.OpAddPermission, Permission: &x}); err != nil {
		return bad(err)
	}
	return s.restOK("add permission ok!")
}

// deletePermission serves DELETE /auth/permissions (role, resource, action).
func (s *Server) deletePermission(ctx context.Context, p *request) answer {
	x := permissionOf(p)
	if err := s.applyIn(ctx, naming.Op{Kind: naming.OpDeletePermission, Permission: &x}); err != nil {
		return fail(err, http.StatusNotFound)
	}
	return s.restOK("delete permission ok!")
}
