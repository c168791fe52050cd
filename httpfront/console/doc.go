// Package console holds the web console every node serves at /nacos/: a
// small application of plain HTML, CSS and JavaScript modules, embedded in
// the binary (go:embed), so nothing is loaded from elsewhere and building
// it needs only the Go toolchain.
//
// The console is a client of the node's Nacos HTTP API: every page reads
// and writes through the same endpoints, with the same token and the same
// access checks, as curl or an SDK would (static/api.js). It keeps the
// token in the tab's sessionStorage and sends it as "Authorization: Bearer".
// Pages are chosen by the fragment (#/services, #/service?…), so the
// server serves only the files below.
//
// Handler serves the files: index.html at the mount point and the others
// under console/, each with its Content-Type, an ETag (If-None-Match
// answers 304), "Cache-Control: no-cache", and the gzip form kept from
// New when the client accepts gzip. index.html is sent with a
// Content-Security-Policy that allows only this origin.
package console
