package httpfront

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"

	"sextant/naming"
)

// namespaceJSON is a namespace as the console lists it; public has id "" and
// type 0, custom namespaces type 2, as in Nacos.
type namespaceJSON struct {
	Namespace         string `json:"namespace"`
	NamespaceShowName string `json:"namespaceShowName"`
	NamespaceDesc     string `json:"namespaceDesc"`
	Quota             int    `json:"quota"`
	ConfigCount       int    `json:"configCount"`
	Type              int    `json:"type"`
}

func namespaceOf(n naming.Namespace) namespaceJSON {
	j := namespaceJSON{Namespace: n.ID, NamespaceShowName: n.Name, NamespaceDesc: n.Description, Quota: n.Quota, Type: 2}
	if n.ID == naming.DefaultNamespace {
		j.Namespace, j.Type = "", 0
	}
	return j
}

// getNamespaces serves GET /console/namespaces: the list, one namespace
// when namespaceId is given, or true/false with checkNamespaceIdExist=true.
func (s *Server) getNamespaces(ctx context.Context, p *request) answer {
	if b, _ := naming.ParseBool(p.get("checkNamespaceIdExist")); b {
		// Whether customNamespaceId is taken: the console asks before it
		// creates one. Blank is never taken.
		id := p.get("customNamespaceId")
		_, found := s.r.Namespace(id)
		return s.jsonAnswer(id != "" && found)
	}
	if id := p.get("namespaceId"); id != "" {
		n, found := s.r.Namespace(id)
		if !found {
			return textAnswer(http.StatusNotFound, "namespace "+id+" does not exist")
		}
		return s.jsonAnswer(namespaceOf(n))
	}
	out := []namespaceJSON{}
	for _, n := range s.r.Namespaces() {
		if s.mayRead(p, n.ID) {
			out = append(out, namespaceOf(n))
		}
	}
	return s.jsonAnswer(restResult(out))
}

// createNamespace serves POST /console/namespaces (customNamespaceId, or a
// generated id; namespaceName required) and answers true.
func (s *Server) createNamespace(ctx context.Context, p *request) answer {
	name, err := p.required("namespaceName")
	if err != nil {
		return bad(err)
	}
	id := p.get("customNamespaceId")
	if id == "" {
		id = newNamespaceID()
	}
	n := naming.Namespace{ID: id, Name: name, Description: p.get("namespaceDesc"), Quota: 200}
	if err := s.applyIn(ctx, naming.Op{Kind: naming.OpCreateNamespace, Namespace: &n}); err != nil {
		return bad(err)
	}
	return textAnswer(http.StatusOK, "true")
}

// updateNamespace serves PUT /console/namespaces (namespace, namespaceShowName, namespaceDesc).
func (s *Server) updateNamespace(ctx context.Context, p *request) answer {
	id, err := p.required("namespace")
	if err != nil {
		return bad(err)
	}
	name, err := p.required("namespaceShowName")
	if err != nil {
		return bad(err)
	}
	if id == naming.DefaultNamespace {
		return bad(naming.Errorf(naming.ErrForbidden, "namespace public cannot be changed"))
	}
	n, found := s.r.Namespace(id)
	if !found {
		return textAnswer(http.StatusNotFound, "namespace "+id+" does not exist")
	}
	n.Name, n.Description = name, p.get("namespaceDesc")
	if err := s.applyIn(ctx, naming.Op{Kind: naming.OpUpdateNamespace, Namespace: &n}); err != nil {
		return fail(err, http.StatusNotFound)
	}
	return textAnswer(http.StatusOK, "true")
}

// deleteNamespace serves DELETE /console/namespaces (namespaceId); 400
// while the namespace holds services.
func (s *Server) deleteNamespace(ctx context.Context, p *request) answer {
	id, err := p.required("namespaceId")
	if err != nil {
		return bad(err)
	}
	if id == naming.DefaultNamespace {
		return bad(naming.Errorf(naming.ErrForbidden, "namespace public cannot be deleted"))
	}
	if n := len(s.r.Services(id, "")); n > 0 {
		return bad(naming.Errorf(naming.ErrConflict, "namespace %s holds %d services; delete them before the namespace", id, n))
	}
	if err := s.applyIn(ctx, naming.Op{Kind: naming.OpDeleteNamespace, Namespace: &naming.Namespace{ID: id}}); err != nil {
		return fail(err, http.StatusNotFound)
	}
	return textAnswer(http.StatusOK, "true")
}

// newNamespaceID returns a random UUID (version 4).
func newNamespaceID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
