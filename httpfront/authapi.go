package httpfront

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sextant/httpfront/auth"
	"sextant/naming"
)

// Paths of the auth API (Nacos 1.x: UserController, RoleController,
// PermissionController).
const authPrefix = "/nacos/v1/auth"

// authRoutes registers login and the management of users, roles and
// permissions, when a Guard is configured.
func (s *Server) authRoutes(e *gin.Engine) {
	a := e.Group(authPrefix)
	a.POST("/users/login", s.h(s.login))
	a.POST("/login", s.h(s.login))
	if s.cfg.Auth == nil {
		return
	}
	s.authSearchRoutes(a)
	a.GET("/users", s.h(s.adminOnly(s.listUsers)))
	a.POST("/users", s.h(s.adminOnly(s.createUser)))
	a.PUT("/users", s.h(s.updateUser))
	a.DELETE("/users", s.h(s.adminOnly(s.deleteUser)))
	a.GET("/roles", s.h(s.adminOnly(s.listRoles)))
	a.POST("/roles", s.h(s.adminOnly(s.addRole)))
	a.DELETE("/roles", s.h(s.adminOnly(s.deleteRole)))
	a.GET("/permissions", s.h(s.adminOnly(s.listPermissions)))
	a.POST("/permissions", s.h(s.adminOnly(s.addPermission)))
	a.DELETE("/permissions", s.h(s.adminOnly(s.deletePermission)))
}

// login serves POST /auth/users/login and /auth/login (username,
// password): {"accessToken","tokenTtl","globalAdmin","username"} and the
// token in an Authorization header; 403 "unknown user!" otherwise. With
// access control off it answers every login so, with a token nothing
// checks (openLogin).
func (s *Server) login(c *gin.Context, p *request) {
	if s.cfg.Auth == nil || !s.cfg.Auth.Enabled() {
		s.openLogin(c, p)
		return
	}
	sess, err := s.cfg.Auth.Login(p.get("username"), p.get("password"), p.source)
	if err != nil {
		s.deny(c, err)
		return
	}
	c.Header("Authorization", "Bearer "+sess.Token)
	s.writeJSON(c, map[string]any{
		"accessToken": sess.Token,
		"tokenTtl":    int64(sess.TTL.Seconds()),
		"globalAdmin": sess.GlobalAdmin,
		"username":    sess.Username,
	})
}

// adminOnly lets only administrators through (everyone with auth off).
func (s *Server) adminOnly(fn handler) handler {
	return func(c *gin.Context, p *request) {
		if _, err := s.cfg.Auth.Check(credentials(c, p), "", auth.Admin); err != nil {
			s.deny(c, err)
			return
		}
		fn(c, p)
	}
}

// restOK is the RestResult Nacos answers user management with.
func (s *Server) restOK(c *gin.Context, msg string) {
	s.writeJSON(c, map[string]any{"code": 200, "message": msg, "data": nil})
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
func (s *Server) listUsers(c *gin.Context, p *request) {
	no, size, err := pageParams(p)
	if err != nil {
		s.bad(c, err)
		return
	}
	type userJSON struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	var out []userJSON
	for _, u := range s.cfg.Auth.State().Users {
		out = append(out, userJSON{Username: u.Name})
	}
	s.writeJSON(c, nacosPage(out, no, size))
}

// createUser serves POST /auth/users (username, password).
func (s *Server) createUser(c *gin.Context, p *request) {
	name, err := p.required("username")
	if err != nil {
		s.bad(c, err)
		return
	}
	pw, err := p.required("password")
	if err != nil {
		s.bad(c, err)
		return
	}
	s.applyUser(c, naming.OpCreateUser, name, pw, "create user ok!")
}

// updateUser serves PUT /auth/users (username, newPassword): an
// administrator may change any password, a user only its own.
func (s *Server) updateUser(c *gin.Context, p *request) {
	name, err := p.required("username")
	if err != nil {
		s.bad(c, err)
		return
	}
	pw, err := p.required("newPassword")
	if err != nil {
		s.bad(c, err)
		return
	}
	g := s.cfg.Auth
	id, err := g.Check(credentials(c, p), "", auth.Authenticated)
	if err != nil {
		s.deny(c, err)
		return
	}
	if g.Enabled() && !id.Admin && id.Username != name {
		s.deny(c, &naming.Error{Kind: auth.ErrDenied, Msg: "authorization failed!"})
		return
	}
	s.applyUser(c, naming.OpUpdateUser, name, pw, "update user ok!")
}

func (s *Server) applyUser(c *gin.Context, kind naming.OpKind, name, pw, msg string) {
	if err := naming.ValidateName("username", name); err != nil {
		s.bad(c, err)
		return
	}
	hash, err := s.cfg.Auth.HashPassword(pw)
	if err != nil {
		s.bad(c, err)
		return
	}
	if err := s.apply(c, naming.Op{Kind: kind, User: &naming.User{Name: name, Hash: hash}}); err != nil {
		s.bad(c, err)
		return
	}
	s.restOK(c, msg)
}

// deleteUser serves DELETE /auth/users (username).
func (s *Server) deleteUser(c *gin.Context, p *request) {
	name, err := p.required("username")
	if err != nil {
		s.bad(c, err)
		return
	}
	if err := s.apply(c, naming.Op{Kind: naming.OpDeleteUser, User: &naming.User{Name: name}}); err != nil {
		s.bad(c, err)
		return
	}
	s.restOK(c, "delete user ok!")
}

// listRoles serves GET /auth/roles (pageNo, pageSize, username filter).
func (s *Server) listRoles(c *gin.Context, p *request) {
	no, size, err := pageParams(p)
	if err != nil {
		s.bad(c, err)
		return
	}
	who := p.get("username")
	out := []naming.RoleBinding{}
	for _, r := range s.cfg.Auth.State().Roles {
		if who == "" || r.Username == who {
			out = append(out, r)
		}
	}
	s.writeJSON(c, nacosPage(out, no, size))
}

// addRole serves POST /auth/roles (role, username).
func (s *Server) addRole(c *gin.Context, p *request) {
	b := naming.RoleBinding{Role: p.get("role"), Username: p.get("username")}
	if err := s.apply(c, naming.Op{Kind: naming.OpAddRole, Role: &b}); err != nil {
		s.bad(c, err)
		return
	}
	s.restOK(c, "add role ok!")
}

// deleteRole serves DELETE /auth/roles (role, and username, or every
// holder of the role).
func (s *Server) deleteRole(c *gin.Context, p *request) {
	b := naming.RoleBinding{Role: p.get("role"), Username: p.get("username")}
	if err := s.apply(c, naming.Op{Kind: naming.OpDeleteRole, Role: &b}); err != nil {
		s.fail(c, err, http.StatusNotFound)
		return
	}
	msg := "delete role of user " + b.Username + " ok!"
	if b.Username == "" {
		msg = "delete role ok!"
	}
	s.restOK(c, msg)
}

// listPermissions serves GET /auth/permissions (role filter, pageNo, pageSize).
func (s *Server) listPermissions(c *gin.Context, p *request) {
	no, size, err := pageParams(p)
	if err != nil {
		s.bad(c, err)
		return
	}
	role := p.get("role")
	out := []naming.Permission{}
	for _, x := range s.cfg.Auth.State().Permissions {
		if role == "" || x.Role == role {
			out = append(out, x)
		}
	}
	s.writeJSON(c, nacosPage(out, no, size))
}

func permissionOf(p *request) naming.Permission {
	return naming.Permission{Role: p.get("role"), Resource: p.get("resource"), Action: p.get("action")}
}

// addPermission serves POST /auth/permissions (role, resource, action).
func (s *Server) addPermission(c *gin.Context, p *request) {
	x := permissionOf(p)
	if err := s.apply(c, naming.Op{Kind: naming.OpAddPermission, Permission: &x}); err != nil {
		s.bad(c, err)
		return
	}
	s.restOK(c, "add permission ok!")
}

// deletePermission serves DELETE /auth/permissions (role, resource, action).
func (s *Server) deletePermission(c *gin.Context, p *request) {
	x := permissionOf(p)
	if err := s.apply(c, naming.Op{Kind: naming.OpDeletePermission, Permission: &x}); err != nil {
		s.fail(c, err, http.StatusNotFound)
		return
	}
	s.restOK(c, "delete permission ok!")
}
