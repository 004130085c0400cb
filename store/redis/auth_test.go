package redis_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiemphieu/kiemphieu/internal/redistest"
	"github.com/kiemphieu/kiemphieu/store/redis"
)

// The security review's Info item "Redis has no AUTH or TLS": anyone who
// reached Redis could write a session and be admin. The deployment now
// runs Redis with a password (requirepass) and the URL carries it,
// redis://:PASSWORD@host:6379/0; a wrong or missing one is refused, and
// no error repeats the password (the service logs them).
func TestOpenWithPassword(t *testing.T) {
	const password = "kp test/pass@wørd:1"
	srv := redistest.StartWith(t, redistest.Options{Password: password})
	ctx := context.Background()
	s := open(t, srv.URL())
	if err := s.PutItem(ctx, "session", "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Item(ctx, "session", "k"); err != nil || string(v) != "v" {
		t.Fatalf("Item = %q, %v", v, err)
	}
	for _, url := range []string{
		"redis://" + srv.Addr() + "/0",                       // no password
		"redis://:wrong-" + "s3cret@" + srv.Addr() + "/0",    // the wrong one
		"redis://:s3cret@" + srv.Addr() + ":bad/0",           // not a URL
		"redis://:s3cret@" + srv.Addr() + "/0?addr=%zz:6379", // not a cluster URL
	} {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := redis.Open(cctx, url)
		cancel()
		if err == nil {
			st.Close()
			t.Errorf("Open(%s) succeeded", strings.Replace(url, srv.Addr(), "…", 1))
			continue
		}
		if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), password) {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
}

// rediss:// is TLS, the certificate checked against the system's roots
// (SSL_CERT_FILE names another bundle): here a CA made for the test.
func TestOpenTLS(t *testing.T) {
	dir := t.TempDir()
	files := testCertificates(t, dir)
	srv := redistest.StartWith(t, redistest.Options{Password: "tls-pass", TLS: files})
	// The system roots are read once per process, at the first TLS
	// verification: no other test of this package verifies one before.
	t.Setenv("SSL_CERT_FILE", files.CA)
	s := open(t, "rediss://:tls-pass@"+srv.TLSAddr()+"/0")
	ctx := context.Background()
	if err := s.PutItem(ctx, "token", "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	// Plain text to the TLS port is no connection.
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if st, err := redis.Open(cctx, "redis://:tls-pass@"+srv.TLSAddr()+"/0"); err == nil {
		st.Close()
		t.Error("redis:// to the TLS port succeeded")
	}
}

// testCertificates writes a CA and a certificate it signed for 127.0.0.1.
func testCertificates(t *testing.T, dir string) *redistest.TLS {
	t.Helper()
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kiemphieu test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &redistest.TLS{
		CA:   write("ca.pem", "CERTIFICATE", caDER),
		Cert: write("redis.pem", "CERTIFICATE", der),
		Key:  write("redis-key.pem", "EC PRIVATE KEY", keyDER),
	}
}
