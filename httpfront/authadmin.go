package httpfront

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"sextant/httpfront/auth"
	"sextant/naming"
)

// openTokenTTL is the tokenTtl an open login reports (Nacos's default
// token lifetime, seconds).
const openTokenTTL = 18000

// openLogin answers a login while access control is off, as Nacos does:
// a random token that nothing checks, as a global administrator, so that
// clients configured with credentials log in and go on.
func (s *Server) openLogin(ctx context.Context, p *request) answer {
	var b [24]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	return s.jsonAnswer(map[string]any{
		"accessToken": tok,
		"tokenTtl":    openTokenTTL,
		"globalAdmin": true,
		"username":    p.get("username"),
	}).with("Authorization", "Bearer "+tok)
}

// searchUsers serves GET /auth/users/search (username): the names of the
// users whose name holds it, a JSON array of strings.
func (s *Server) searchUsers(ctx context.Context, p *request) answer {
	part := p.get("username")
	out := []string{}
	for _, u := range s.cfg.Auth.State().Users {
		if strings.Contains(u.Name, part) {
			out = append(out, u.Name)
		}
	}
	return s.jsonAnswer(out)
}

// searchRoles serves GET /auth/roles/search (role): the roles whose name
// holds it, each once, a JSON array of strings.
func (s *Server) searchRoles(ctx context.Context, p *request) answer {
	part := p.get("role")
	out, seen := []string{}, map[string]bool{}
	for _, r := range s.cfg.Auth.State().Roles {
		if strings.Contains(r.Role, part) && !seen[r.Role] {
			seen[r.Role] = true
			out = append(out, r.Role)
		}
	}
	return s.jsonAnswer(out)
}

// changeOwnPassword serves PUT /auth/users/password (oldPassword,
// newPassword): the caller changes its own password, proving the old one.
// The caller is the token's user; with access control off, the username
// parameter. A wrong old password is 403 "Old password is invalid".
func (s *Server) changeOwnPassword(ctx context.Context, p *request) answer {
	old, err := p.required("oldPassword")
	if err != nil {
		return bad(err)
	}
	pw, err := p.required("newPassword")
	if err != nil {
		return bad(err)
	}
	g := s.cfg.Auth
	name := p.get("username")
	if g.Enabled() {
		id, err := g.Check(credentials(p), "", auth.Authenticated)
		if err != nil {
			return deny(err)
		}
		name = id.Username
	}
	if name == "" {
		return bad(invalid("Param 'username' is required."))
	}
	if _, err := g.Login(name, old, p.source); err != nil {
		return deny(&naming.Error{Kind: auth.ErrDenied, Msg: "Old password is invalid"})
	}
	return s.applyUser(ctx, naming.OpUpdateUser, name, pw, "Update password success")
}

// adminUser is the administrator POST /auth/users/admin creates, as
// Nacos names it.
const adminUser = "nacos"

// createAdmin serves POST /auth/users/admin (password, else a random
// one): creates the administrator "nacos" when there is no administrator
// yet and answers {"username","password"}; 409 when there is one.
func (s *Server) createAdmin(ctx context.Context, p *request) answer {
	conflict := map[string]any{"code": http.StatusConflict, "message": "have admin user cannot use it", "data": nil}
	if hasAdmin(s.cfg.Auth.State()) {
		return s.jsonStatusAnswer(http.StatusConflict, conflict)
	}
	pw := p.get("password")
	if pw == "" {
		var b [12]byte
		rand.Read(b[:])
		pw = hex.EncodeToString(b[:])
	}
	hash, err := s.cfg.Auth.HashPassword(pw)
	if err != nil {
		return bad(err)
	}
	switch err := s.applyIn(ctx, naming.Op{Kind: naming.OpInitAuth, User: &naming.User{Name: adminUser, Hash: hash}}); {
	case errors.Is(err, naming.ErrConflict): // another request or the node's own start made one
		return s.jsonStatusAnswer(http.StatusConflict, conflict)
	case err != nil:
		return bad(err)
	default:
		return s.jsonAnswer(map[string]any{"username": adminUser, "password": pw})
	}
}

func hasAdmin(st *naming.AuthState) bool {
	if st.Initialized {
		return true
	}
	for _, r := range st.Roles {
		if r.Role == naming.AdminRole {
			return true
		}
	}
	return false
}
