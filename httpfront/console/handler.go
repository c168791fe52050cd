package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// static holds the console's files; it is read once, by New.
//
//go:embed static
var static embed.FS

// IndexName is the page served at the mount point.
const IndexName = "index.html"

// csp allows scripts, styles, images and requests of this origin only.
const csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// contentType is the Content-Type of a file by its extension, fixed here
// rather than taken from the system's MIME tables, which differ between
// hosts.
func contentType(ext string) string {
	switch ext {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// asset is one file, ready to send.
type asset struct {
	body, gz []byte
	ctype    string
	etag     string
}

// Handler serves the console's files.
type Handler struct {
	files map[string]*asset
}

// New reads the embedded files and compresses each once.
func New() (*Handler, error) {
	h := &Handler{files: map[string]*asset{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := zw.Write(body); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype := contentType(path.Ext(p))
		h.files[strings.TrimPrefix(p, "static/")] = &asset{body: body, gz: buf.Bytes(), ctype: ctype,
			etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console assets: %w", err)
	}
	if h.files[IndexName] == nil {
		return nil, fmt.Errorf("console assets: no %s", IndexName)
	}
	return h, nil
}

// Size returns the bytes of the files as stored and gzipped, summed.
func (h *Handler) Size() (raw, gzipped int) {
	for _, a := range h.files {
		raw += len(a.body)
		gzipped += len(a.gz)
	}
	return raw, gzipped
}

// Serve answers GET or HEAD of the file name (IndexName, or a path such
// as "app.js" under console/); 404 for any other name.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, name string) {
	a := h.files[name]
	if a == nil || strings.HasPrefix(name, ".") {
		http.Error(w, "no such console file: "+name, http.StatusNotFound)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.ctype)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Vary", "Accept-Encoding")
	if name == IndexName {
		hd.Set("Content-Security-Policy", csp)
		hd.Set("Referrer-Policy", "no-referrer")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = a.gz
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// acceptsGzip reads an Accept-Encoding header: gzip listed without q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
