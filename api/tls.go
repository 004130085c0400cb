package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// HTTPS on the hall's LAN (KIEMPHIEU_TLS=auto, docs/reliability.md,
// "Security"). No authority signs a certificate for 192.168.1.10, so the
// service makes its own once and keeps it: each desk's browser warns the
// first time, the operator compares the fingerprint the desk shows with
// the one printed at start (and on the desk-token page), and the same
// certificate — the same fingerprint — serves every later start. Making a
// new one at each start would have the desks accept a new warning each
// morning, which teaches them to accept any.

// AutoCertValidity is how long a made certificate is valid: longer than
// a term of office, so that it never expires between two congresses.
const AutoCertValidity = 10 * 365 * 24 * time.Hour

// AutoCertFiles are the certificate and key AutoCertificate keeps in dir.
func AutoCertFiles(dir string) (cert, key string) {
	return filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
}

// AutoCertificate returns the certificate kept in dir, making it when
// there is none: ECDSA P-256, for localhost, 127.0.0.1, ::1 and every
// address in addrs, valid for AutoCertValidity from now. made says whether
// it was made now. A certificate or key that is there but unreadable is an
// error, never replaced: its fingerprint is what the desks compared.
func AutoCertificate(dir string, addrs []netip.Addr, now time.Time) (cert tls.Certificate, made bool, err error) {
	certFile, keyFile := AutoCertFiles(dir)
	_, cerr := os.Stat(certFile)
	_, kerr := os.Stat(keyFile)
	switch {
	case cerr == nil && kerr == nil:
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return cert, false, fmt.Errorf("%s, %s: %w (remove the directory %s to make a new certificate; the desks will see a new fingerprint)", certFile, keyFile, err, dir)
		}
		return cert, false, nil
	case !errors.Is(cerr, fs.ErrNotExist) && cerr != nil:
		return cert, false, cerr
	case !errors.Is(kerr, fs.ErrNotExist) && kerr != nil:
		return cert, false, kerr
	case cerr == nil || kerr == nil:
		return cert, false, fmt.Errorf("%s holds only one of cert.pem and key.pem: restore the other, or remove the directory to make a new certificate", dir)
	}
	certPEM, keyPEM, err := makeCertificate(addrs, now)
	if err != nil {
		return cert, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return cert, false, err
	}
	// The key first: a certificate is never there without its key.
	if err := writeFileAtomic(keyFile, keyPEM); err != nil {
		return cert, false, err
	}
	if err := writeFileAtomic(certFile, certPEM); err != nil {
		return cert, false, err
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	return cert, true, err
}

func makeCertificate(addrs []netip.Addr, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	for _, a := range addrs {
		ips = append(ips, net.IP(a.AsSlice()))
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "kiemphieu " + host, Organization: []string{"kiemphieu"}},
		NotBefore:    now.Add(-time.Hour), // a desk whose clock is a little behind
		NotAfter:     now.Add(AutoCertValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// writeFileAtomic writes data to path, readable by the owner only, through
// a temporary file renamed over it: a crash leaves the old file or the
// new one, never half of one.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// CertFingerprint is the SHA-256 of the certificate served (its first, the
// leaf), in upper-case hex pairs separated by colons, as browsers show it.
func CertFingerprint(cert tls.Certificate) string {
	if len(cert.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(cert.Certificate[0])
	pairs := make([]string, len(sum))
	for i, b := range sum {
		pairs[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(pairs, ":")
}

// UncoveredAddrs is which of addrs the certificate does not name: the
// machine took another address since the certificate was made (a new
// Wi-Fi, another DHCP lease). Browsers then warn of a wrong name as well.
func UncoveredAddrs(cert tls.Certificate, addrs []netip.Addr) []netip.Addr {
	if len(cert.Certificate) == 0 {
		return addrs
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return addrs
	}
	var out []netip.Addr
	for _, a := range addrs {
		if !slices.ContainsFunc(leaf.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.IP(a.AsSlice())) }) {
			out = append(out, a)
		}
	}
	return out
}

// ServerTLS is the TLS configuration of the service with cert: TLS 1.2 at
// least, HTTP/1.1 (fasthttp speaks nothing else).
func ServerTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
}
