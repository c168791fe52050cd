package console

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, h *Handler, name string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/nacos/console/"+name, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.Serve(rec, r, name)
	return rec
}

func TestFilesAreServedWithTheirTypeAndGzip(t *testing.T) {
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	plain := serve(t, h, "app.js")
	if plain.Code != 200 || !strings.HasPrefix(plain.Header().Get("Content-Type"), "text/javascript") || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("app.js: %d %v", plain.Code, plain.Header())
	}
	zipped := serve(t, h, "app.js", "Accept-Encoding", "br, gzip")
	if zipped.Header().Get("Content-Encoding") != "gzip" || zipped.Body.Len() >= plain.Body.Len() {
		t.Fatalf("gzip answer: %v, %d bytes against %d", zipped.Header(), zipped.Body.Len(), plain.Body.Len())
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	un, _ := io.ReadAll(zr)
	if !bytes.Equal(un, plain.Body.Bytes()) {
		t.Fatal("gzip body differs from the file")
	}
	if serve(t, h, "app.js", "Accept-Encoding", "gzip;q=0").Header().Get("Content-Encoding") != "" {
		t.Fatal("gzip sent to a client that refused it")
	}
	if rec := serve(t, h, "app.js", "If-None-Match", plain.Header().Get("ETag")); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Fatalf("If-None-Match: %d", rec.Code)
	}
	for _, name := range []string{"nope.js", "../doc.go", "", "pages"} {
		if rec := serve(t, h, name); rec.Code != 404 {
			t.Errorf("%q: %d, want 404", name, rec.Code)
		}
	}
	idx := serve(t, h, IndexName)
	if !strings.Contains(idx.Header().Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("index without a CSP: %v", idx.Header())
	}
	raw, gz := h.Size()
	if raw == 0 || gz == 0 || gz >= raw {
		t.Fatalf("sizes %d raw, %d gzipped", raw, gz)
	}
	t.Logf("console assets: %d bytes, %d gzipped, %d files", raw, gz, len(h.files))
}

// TestEveryReferencedFileExists: each module import and each file the page
// links is among the embedded files, so no page breaks on a missing file.
func TestEveryReferencedFileExists(t *testing.T) {
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	imports := regexp.MustCompile(`(?m)^import [^;]*?from '([^']+)';`)
	links := regexp.MustCompile(`(?:href|src)="console/([^"]+)"`)
	for name, a := range h.files {
		var refs []string
		dir := ""
		if i := strings.LastIndex(name, "/"); i >= 0 {
			dir = name[:i+1]
		}
		for _, m := range imports.FindAllStringSubmatch(string(a.body), -1) {
			refs = append(refs, resolve(dir, m[1]))
		}
		for _, m := range links.FindAllStringSubmatch(string(a.body), -1) {
			refs = append(refs, m[1])
		}
		for _, r := range refs {
			if h.files[r] == nil {
				t.Errorf("%s refers to %s, which is not embedded", name, r)
			}
		}
	}
	if len(h.files) < 10 {
		t.Fatalf("only %d files embedded", len(h.files))
	}
}

// resolve joins a relative module path to the directory of its importer.
func resolve(dir, rel string) string {
	parts := strings.Split(strings.TrimSuffix(dir, "/"), "/")
	if dir == "" {
		parts = nil
	}
	for _, p := range strings.Split(rel, "/") {
		switch p {
		case ".":
		case "..":
			if len(parts) > 0 {
				parts = parts[:len(parts)-1]
			}
		default:
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "/")
}
