package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/nacos-group/nacos-sdk-go/clients"
	"github.com/nacos-group/nacos-sdk-go/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/common/constant"
	"github.com/nacos-group/nacos-sdk-go/vo"
)

// authedNacosClient is an unmodified nacos-sdk-go v1.1.4 client that logs
// in with a username and password.
func authedNacosClient(t *testing.T, p *proc, user, password string) naming_client.INamingClient {
	t.Helper()
	dir := t.TempDir()
	c, err := clients.NewNamingClient(vo.NacosClientParam{
		ClientConfig: &constant.ClientConfig{
			TimeoutMs: 5000, NotLoadCacheAtStart: true, CacheDir: dir + "/cache", LogDir: dir + "/log", LogLevel: "error",
			Username: user, Password: password,
		},
		ServerConfigs: []constant.ServerConfig{{IpAddr: "127.0.0.1", Port: uint64(p.port()), ContextPath: "/nacos"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAuthWithTheNacosClient runs the binary with access control on and
// drives it with the real Go client, logged in or not.
func TestAuthWithTheNacosClient(t *testing.T) {
	p := startSextant(t, "", "--auth-enabled", "--auth-admin-password", "admin-pass-1")
	waitFor(t, 10*time.Second, "the first administrator", func() bool {
		code, _ := p.do("POST", "/nacos/v1/auth/users/login", url.Values{"username": {"nacos"}, "password": {"admin-pass-1"}})
		return code == 200
	})
	c := authedNacosClient(t, p, "nacos", "admin-pass-1")
	ok, err := c.RegisterInstance(vo.RegisterInstanceParam{Ip: "127.0.0.21", Port: 8080, ServiceName: "secure",
		Weight: 1, Enable: true, Healthy: true, Ephemeral: true})
	if err != nil || !ok {
		t.Fatalf("register with a login: %v", err)
	}
	all, err := c.SelectAllInstances(vo.SelectAllInstancesParam{ServiceName: "secure"})
	if err != nil || len(all) != 1 {
		t.Fatalf("list with a login: %v %+v", err, all)
	}
	bad := authedNacosClient(t, p, "nacos", "wrong-password")
	if ok, err := bad.RegisterInstance(vo.RegisterInstanceParam{Ip: "127.0.0.22", Port: 8080, ServiceName: "secure",
		Weight: 1, Enable: true, Healthy: true, Ephemeral: true}); err == nil && ok {
		t.Fatal("register with a wrong password succeeded")
	}
	anon := newNacosClient(t, p)
	if _, err := anon.SelectAllInstances(vo.SelectAllInstancesParam{ServiceName: "secure"}); err == nil {
		t.Fatal("list without a login succeeded")
	}
	if code, body := p.get("/nacos/v1/ns/instance/list", url.Values{"serviceName": {"secure"}}); code != 403 {
		t.Fatalf("anonymous list: %d %s", code, body)
	}
	// The Node client's way: username and password on the request.
	if code, body := p.get("/nacos/v1/ns/instance/list", url.Values{"serviceName": {"secure"}, "username": {"nacos"}, "password": {"admin-pass-1"}}); code != 200 || !strings.Contains(body, "127.0.0.21") {
		t.Fatalf("list with username and password: %d %s", code, body)
	}
	// Health checks stay open for orchestrators.
	if code, _ := p.get("/nacos/v1/console/health/readiness", nil); code != 200 {
		t.Fatal("readiness needs a login")
	}
	// Users, roles and permissions are durable: after a restart the
	// administrator still logs in and a new user keeps its rights.
	code, body := p.do("POST", "/nacos/v1/auth/users", url.Values{"username": {"app"}, "password": {"app-pass-1"},
		"accessToken": {loginToken(t, p, "nacos", "admin-pass-1")}})
	if code != 200 {
		t.Fatalf("create user: %d %s", code, body)
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	p.restart()
	loginToken(t, p, "app", "app-pass-1")
}

func loginToken(t *testing.T, p *proc, user, password string) string {
	t.Helper()
	var tok string
	waitFor(t, 10*time.Second, "login of "+user, func() bool {
		code, body := p.do("POST", "/nacos/v1/auth/login", url.Values{"username": {user}, "password": {password}})
		if code != 200 {
			return false
		}
		var v struct {
			AccessToken string  `json:"accessToken"`
			TokenTTL    float64 `json:"tokenTtl"`
		}
		if json.Unmarshal([]byte(body), &v) != nil || v.TokenTTL <= 0 {
			t.Fatalf("login body %s", body)
		}
		tok = v.AccessToken
		return tok != ""
	})
	return tok
}

// TestAuthGeneratesSecretAndPassword: without a configured password or
// secret, a lone node generates both into its data dir with mode 0600, and
// keeps them across restarts.
func TestAuthGeneratesSecretAndPassword(t *testing.T) {
	dir := t.TempDir()
	p := startSextant(t, dir, "--auth-enabled")
	pwFile := filepath.Join(dir, "auth-admin-password")
	waitFor(t, 10*time.Second, "the generated password file", func() bool { _, err := os.Stat(pwFile); return err == nil })
	for _, f := range []string{pwFile, filepath.Join(dir, "auth-token-secret")} {
		fi, err := os.Stat(f)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, fi.Mode(), err)
		}
	}
	b, _ := os.ReadFile(pwFile)
	pw := strings.TrimSpace(string(b))
	tok := loginToken(t, p, "nacos", pw)
	if !strings.Contains(p.logs.String(), pw) {
		t.Error("the generated password was not logged")
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	p.restart()
	if code, body := p.get("/nacos/v1/ns/instance/list", url.Values{"serviceName": {"x"}, "accessToken": {tok}}); code != 200 {
		t.Fatalf("token from before the restart: %d %s", code, body)
	}
	if strings.Count(p.logs.String(), pw) != 0 {
		t.Error("the password was logged again after a restart")
	}
}

// TestClusteredAuthNeedsASecret: a cluster member with auth on and no
// token secret refuses to start and says why.
func TestClusteredAuthNeedsASecret(t *testing.T) {
	out, err := exec.Command(sextantBinary(t), "server", "--auth-enabled", "--members", "127.0.0.1:18848,127.0.0.1:18849",
		"--http-addr", "127.0.0.1:18848", "--data-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "auth-token-secret is required") {
		t.Fatalf("exit %v, output %s", err, out)
	}
}

// TestLimitsOverHTTP: a registration over max-instances-per-service is
// refused with 413 and a clear message.
func TestLimitsOverHTTP(t *testing.T) {
	p := startSextant(t, "", "--max-instances-per-service", "2")
	for i, ip := range []string{"127.0.0.31", "127.0.0.32", "127.0.0.33"} {
		code, body := p.do("POST", "/nacos/v1/ns/instance", url.Values{"serviceName": {"capped"}, "ip": {ip}, "port": {"80"}})
		if i < 2 && code != 200 {
			t.Fatalf("%s: %d %s", ip, code, body)
		}
		if i == 2 && (code != 413 || !strings.Contains(body, "max-instances-per-service")) {
			t.Fatalf("over the limit: %d %s", code, body)
		}
	}
	if n := len(p.list(t, "capped")); n != 2 {
		t.Fatalf("%d instances", n)
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and returns it.
func writeCert(t *testing.T, certFile, keyFile, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	// Written to temporary names and renamed, as a certificate manager does.
	for _, f := range []struct {
		path string
		blk  *pem.Block
	}{{certFile, &pem.Block{Type: "CERTIFICATE", Bytes: der}}, {keyFile, &pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}}} {
		if err := os.WriteFile(f.path+".tmp", pem.EncodeToMemory(f.blk), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(f.path+".tmp", f.path); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func httpsGet(trust *x509.Certificate, u string) (int, string, error) {
	pool := x509.NewCertPool()
	pool.AddCert(trust)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer c.CloseIdleConnections()
	resp, err := c.Get(u)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// TestTLSAndReloadOnSIGHUP serves the API over HTTPS with a certificate
// made by the test, then replaces the certificate and sends SIGHUP: new
// connections get the new one.
func TestTLSAndReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := writeCert(t, certFile, keyFile, "first")
	p := &proc{t: t, dataDir: t.TempDir(), httpAddr: "127.0.0.1:" + strconv.Itoa(freePort(t)), dnsAddr: "127.0.0.1:" + strconv.Itoa(freePort(t))}
	p.args = []string{"server", "--http-addr", p.httpAddr, "--dns-addr", p.dnsAddr, "--data-dir", p.dataDir,
		"--tls-cert-file", certFile, "--tls-key-file", keyFile}
	p.launch()
	base := "https://" + p.httpAddr
	waitFor(t, 30*time.Second, "https readiness", func() bool {
		code, _, _ := httpsGet(first, base+"/nacos/v1/console/health/readiness")
		return code == 200
	})
	if code, body, err := httpsGet(first, base+"/nacos/v1/ns/instance/list?serviceName=tls"); err != nil || code != 200 || !strings.Contains(body, `"hosts":[]`) {
		t.Fatalf("list over https: %d %s %v", code, body, err)
	}
	// Plain HTTP is not served on the TLS port.
	if code, _ := p.get("/nacos/v1/console/health/readiness", nil); code == 200 {
		t.Fatal("plain http answered on the https port")
	}
	second := writeCert(t, certFile, keyFile, "second")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the new certificate", func() bool {
		code, _, err := httpsGet(second, base+"/nacos/v1/console/health/liveness")
		return err == nil && code == 200
	})
	if _, _, err := httpsGet(first, base+"/nacos/v1/console/health/liveness"); err == nil {
		t.Fatal("the old certificate is still served")
	}
}

// httpsDo sends a form request over https trusting ca.
func httpsDo(t *testing.T, ca *x509.Certificate, method, u string, params url.Values) (int, string) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	c := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer c.CloseIdleConnections()
	var body io.Reader
	if method == http.MethodGet {
		u += "?" + params.Encode()
	} else {
		body = strings.NewReader(params.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestClusterOverTLSWithAuth runs three members that serve HTTPS, call
// each other over HTTPS trusting the test's CA, authenticate Raft with the
// cluster secret, and share one token secret: a token from one member
// works on the others, and writes forwarded between members (Raft for
// persistent instances, Distro for ephemeral ones) go through.
func TestClusterOverTLSWithAuth(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	ca := writeCert(t, certFile, keyFile, "sextant-test")
	taken := map[int]bool{}
	var addrs []string
	for i := 0; i < 3; i++ {
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(clusterPort(t, taken)))
	}
	var ps []*proc
	for _, a := range addrs {
		p := &proc{t: t, dataDir: t.TempDir(), httpAddr: a, dnsAddr: "127.0.0.1:" + strconv.Itoa(freePort(t))}
		p.args = []string{"server", "--http-addr", p.httpAddr, "--dns-addr", p.dnsAddr, "--data-dir", p.dataDir,
			"--members", strings.Join(addrs, ","), "--cluster-secret", "tls-test-secret",
			"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-file", certFile,
			"--auth-enabled", "--auth-token-secret", strings.Repeat("t", 40), "--auth-admin-password", "admin-pass-1"}
		p.launch()
		ps = append(ps, p)
	}
	for _, p := range ps {
		waitFor(t, 30*time.Second, "https readiness of "+p.httpAddr, func() bool {
			code, _ := httpsDo(t, ca, "GET", "https://"+p.httpAddr+"/nacos/v1/console/health/readiness", nil)
			return code == 200
		})
	}
	var tok string
	waitFor(t, 30*time.Second, "a login on the first member", func() bool {
		code, body := httpsDo(t, ca, "POST", "https://"+ps[0].httpAddr+"/nacos/v1/auth/users/login",
			url.Values{"username": {"nacos"}, "password": {"admin-pass-1"}})
		var v struct{ AccessToken string }
		_ = json.Unmarshal([]byte(body), &v)
		tok = v.AccessToken
		return code == 200 && tok != ""
	})
	reg := func(p *proc, ip string, eph bool) (int, string) {
		return httpsDo(t, ca, "POST", "https://"+p.httpAddr+"/nacos/v1/ns/instance", url.Values{"serviceName": {"tls"},
			"ip": {ip}, "port": {"443"}, "ephemeral": {strconv.FormatBool(eph)}, "accessToken": {tok}})
	}
	waitFor(t, 20*time.Second, "a persistent registration through the second member", func() bool {
		code, _ := reg(ps[1], "127.0.0.41", false)
		return code == 200
	})
	if code, body := reg(ps[2], "127.0.0.42", true); code != 200 {
		t.Fatalf("ephemeral registration through the third member: %d %s", code, body)
	}
	if code, _ := httpsDo(t, ca, "POST", "https://"+ps[2].httpAddr+"/nacos/v1/ns/instance",
		url.Values{"serviceName": {"tls"}, "ip": {"127.0.0.43"}, "port": {"443"}}); code != 403 {
		t.Fatalf("registration without a token: %d", code)
	}
	for _, p := range ps {
		waitFor(t, 15*time.Second, "both instances on "+p.httpAddr, func() bool {
			code, body := httpsDo(t, ca, "GET", "https://"+p.httpAddr+"/nacos/v1/ns/instance/list",
				url.Values{"serviceName": {"tls"}, "accessToken": {tok}})
			return code == 200 && strings.Contains(body, "127.0.0.41") && strings.Contains(body, "127.0.0.42")
		})
	}
	// The Raft port speaks TLS: a plain connection gets no challenge in
	// clear, and a TLS client gets the members' certificate.
	raftAddr, _ := raftAddrOf(ps[0].httpAddr)
	plain, err := net.Dial("tcp", raftAddr)
	if err != nil {
		t.Fatal(err)
	}
	_ = plain.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if n, _ := plain.Read(make([]byte, 64)); n > 0 {
		t.Error("the Raft port sent bytes in clear to a plain connection")
	}
	plain.Close()
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	// (With TLS 1.3 the refusal of a client without a certificate comes
	// after the client's side of the handshake: on the first read.)
	if tc, err := tls.Dial("tcp", raftAddr, &tls.Config{RootCAs: pool}); err == nil {
		_ = tc.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = tc.Read(make([]byte, 1))
		tc.Close()
		if err == nil || !strings.Contains(err.Error(), "certificate required") {
			t.Errorf("a TLS client without a certificate: %v, want the server to require one", err)
		}
	}
}

// TestLoadSheddingMetrics: the DNS rate limit and the in-flight bound
// report what they refused.
func TestLoadSheddingMetrics(t *testing.T) {
	p := startSextant(t, "", "--dns-rate-limit", "5", "--dns-rate-limit-exempt", "") // loopback limited too
	conn, err := net.Dial("udp", p.dnsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := 0; i < 50; i++ {
		m := new(dns.Msg)
		m.SetQuestion("nothing.service.nacos.", dns.TypeA)
		b, _ := m.Pack()
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	base := "http://" + p.httpAddr
	waitFor(t, 5*time.Second, "rate-limited answers counted", func() bool {
		s := scrapeMetrics(t, base)
		d, _ := s.value("sextant_dns_rate_limited_total", "action=dropped")
		tr, _ := s.value("sextant_dns_rate_limited_total", "action=truncated")
		return d > 0 && tr > 0
	})
	s := scrapeMetrics(t, base)
	if v := s.must(t, "sextant_http_shed_total"); v != 0 {
		t.Errorf("shed %v with no load", v)
	}
	s.must(t, "sextant_http_in_flight")
}
