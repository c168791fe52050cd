package raftcp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// clusterCA is a CA and a certificate it signed for 127.0.0.1, usable by
// a member as server and client.
type clusterCA struct {
	pool *x509.CertPool
	cert tls.Certificate
}

func newClusterCA(t *testing.T) clusterCA {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cluster ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "member"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return clusterCA{pool: pool, cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
}

// configs are the listener's and the dialer's TLS settings of a member.
func (ca clusterCA) configs() (server, client *tls.Config) {
	server = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{ca.cert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool}
	client = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: ca.pool, Certificates: []tls.Certificate{ca.cert}}
	return server, client
}

func tlsStream(t *testing.T, server, client *tls.Config) *authStream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newTLSAuthStream(ln, ln.Addr(), "the-cluster-secret", nil, server, client)
	t.Cleanup(func() { s.Close() })
	return s
}

// TestAuthStreamOverMutualTLS: with TLS configured, members talk Raft
// inside TLS; a dialer without a certificate of the cluster's CA, or
// without TLS, never reaches Raft, and the bytes on the wire are not the
// plain messages.
func TestAuthStreamOverMutualTLS(t *testing.T) {
	ca := newClusterCA(t)
	server, client := ca.configs()
	srv := tlsStream(t, server, client)
	addr := raft.ServerAddress(srv.Addr().String())

	c, err := tlsStream(t, server, client).Dial(addr, time.Second)
	if err != nil {
		t.Fatalf("member dial: %v", err)
	}
	defer c.Close()
	if _, ok := c.(*tls.Conn); !ok {
		t.Fatalf("the dialled connection is %T, not TLS", c)
	}
	in := accepted(srv, 2*time.Second)
	if in == nil {
		t.Fatal("a member with the CA's certificate was not accepted")
	}
	defer in.Close()
	_, _ = c.Write([]byte("raft"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(in, buf); err != nil || string(buf) != "raft" {
		t.Fatalf("bytes inside TLS: %q %v", buf, err)
	}

	// A dialer with the secret but no client certificate.
	noCert := client.Clone()
	noCert.Certificates = nil
	if c2, err := tlsStream(t, server, noCert).Dial(addr, time.Second); err == nil {
		c2.Close()
		t.Error("a dialer without a client certificate was let in")
	}
	// A dialer with the secret and no TLS at all.
	if c3, err := listenStream(t, "the-cluster-secret").Dial(addr, time.Second); err == nil {
		c3.Close()
		t.Error("a plain dialer was let in")
	}
	// A listener whose certificate the cluster's CA did not sign.
	other := newClusterCA(t)
	oserver, _ := other.configs()
	impostor := tlsStream(t, oserver, client)
	if c4, err := tlsStream(t, server, client).Dial(raft.ServerAddress(impostor.Addr().String()), time.Second); err == nil {
		c4.Close()
		t.Error("dialed a listener with a foreign certificate")
	}
	if accepted(srv, 200*time.Millisecond) != nil {
		t.Fatal("a refused dialer reached Raft")
	}
}
