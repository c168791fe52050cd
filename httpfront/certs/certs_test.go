package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writePair writes a self-signed certificate for 127.0.0.1 named cn and
// returns the file names and the certificate.
func writePair(t *testing.T, dir, cn string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return certFile, keyFile, c
}

func TestReloadSwapsTheServedCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, first := writePair(t, dir, "first")
	r, err := NewReloader(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", r.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(ln)
	defer srv.Close()

	get := func(trust *x509.Certificate) (string, error) {
		pool := x509.NewCertPool()
		pool.AddCert(trust)
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		defer c.CloseIdleConnections()
		resp, err := c.Get("https://" + ln.Addr().String() + "/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		return resp.TLS.PeerCertificates[0].Subject.CommonName, nil
	}
	if cn, err := get(first); err != nil || cn != "first" {
		t.Fatalf("before reload: %q %v", cn, err)
	}
	_, _, second := writePair(t, dir, "second")
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if cn, err := get(second); err != nil || cn != "second" {
		t.Fatalf("after reload: %q %v", cn, err)
	}
	if _, err := get(first); err == nil {
		t.Fatal("a client trusting only the old certificate still connects")
	}
	// A broken file keeps the current certificate.
	if err := os.WriteFile(keyFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err == nil {
		t.Fatal("a broken key loaded")
	}
	if cn, err := get(second); err != nil || cn != "second" {
		t.Fatalf("after a failed reload: %q %v", cn, err)
	}
}

func TestClientConfig(t *testing.T) {
	dir := t.TempDir()
	certFile, _, _ := writePair(t, dir, "ca")
	cfg, err := ClientConfig(certFile, nil)
	if err != nil || cfg.RootCAs == nil {
		t.Fatalf("%v %v", cfg, err)
	}
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("nothing"), 0o600)
	if _, err := ClientConfig(bad, nil); err == nil {
		t.Fatal("a file without certificates was accepted")
	}
	if _, err := NewReloader("", ""); err == nil {
		t.Fatal("empty file names accepted")
	}
}
