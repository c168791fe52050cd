package grpcfront

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sextant-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestTLS: with a TLS configuration the front speaks TLS only.
func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	f := start(t, func(c *Config) { c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}} }, nil)
	addr := "127.0.0.1:" + strconv.Itoa(f.port())
	check := func(creds credentials.TransportCredentials) error {
		cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds), grpc.WithDefaultCallOptions(grpc.ForceCodec(Codec{})))
		if err != nil {
			return err
		}
		defer cc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var out Payload
		if err := cc.Invoke(ctx, "/Request/request", &Payload{Type: typeServerCheck, Body: []byte(`{}`)}, &out); err != nil {
			return err
		}
		if out.Type != typeServerCheckResp {
			t.Fatalf("answer %s %s", out.Type, out.Body)
		}
		return nil
	}
	if err := check(credentials.NewTLS(&tls.Config{RootCAs: pool})); err != nil {
		t.Fatalf("over TLS: %v", err)
	}
	if err := check(insecure.NewCredentials()); err == nil {
		t.Fatal("a plaintext client was served")
	}
}
