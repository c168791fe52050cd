package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// Reloader holds a certificate loaded from a pair of files.
type Reloader struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// NewReloader loads the pair once; it fails when they do not load.
func NewReloader(certFile, keyFile string) (*Reloader, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls: both a certificate file and a key file are required")
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the files again and, when they load, serves the new
// certificate from the next handshake on.
func (r *Reloader) Reload() error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls: load %s and %s: %w", r.certFile, r.keyFile, err)
	}
	if c.Leaf == nil && len(c.Certificate) > 0 {
		c.Leaf, _ = x509.ParseCertificate(c.Certificate[0])
	}
	r.cur.Store(&c)
	return nil
}

// Certificate returns the certificate served now.
func (r *Reloader) Certificate() *tls.Certificate { return r.cur.Load() }

// GetCertificate is for tls.Config.GetCertificate.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cur.Load(), nil
}

// GetClientCertificate is for tls.Config.GetClientCertificate: a node
// presents the same certificate when it calls its peers.
func (r *Reloader) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return r.cur.Load(), nil
}

// ServerConfig returns a server configuration serving r's certificate.
func (r *Reloader) ServerConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}
}

// ClientConfig returns the configuration node-to-node clients use: they
// trust the CAs in caFile (the system's roots when it is empty) and, when
// r is not nil, present r's certificate if a peer asks for one.
func ClientConfig(caFile string, r *Reloader) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("tls: ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: ca file %s holds no PEM certificate", caFile)
		}
		cfg.RootCAs = pool
	}
	if r != nil {
		cfg.GetClientCertificate = r.GetClientCertificate
	}
	return cfg, nil
}
