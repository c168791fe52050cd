// Package certs loads the TLS material of a node from files: the server
// certificate and key, which can be replaced while the node serves, and the
// CA that node-to-node clients trust.
//
// Guarantees:
//   - A Reloader always serves a certificate that loaded whole: Reload
//     parses the new files first and swaps atomically, so a failed reload
//     (a half-written file, a key that does not match) keeps the old
//     certificate and returns the error.
//   - Handshakes read the current certificate without locks
//     (tls.Config.GetCertificate), so a reload never blocks traffic and
//     new connections see the new certificate at once.
//   - Server configurations accept TLS 1.2 and later only.
package certs
