package node

import (
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
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// testPKI is a self-signed CA with a server and a client certificate, written
// as PEM files in a temporary directory.
type testPKI struct {
	caFile                string
	serverCert, serverKey string
	clientCert, clientKey string
	otherCA               string // a CA that signed nothing here
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, caCert := newCA(t, "cairn test CA")
	_, otherCert := newCA(t, "other CA")
	p := testPKI{
		caFile:     writePEM(t, dir, "ca.pem", "CERTIFICATE", caCert.Raw),
		otherCA:    writePEM(t, dir, "other-ca.pem", "CERTIFICATE", otherCert.Raw),
		serverCert: filepath.Join(dir, "server.pem"),
		serverKey:  filepath.Join(dir, "server-key.pem"),
		clientCert: filepath.Join(dir, "client.pem"),
		clientKey:  filepath.Join(dir, "client-key.pem"),
	}
	issue(t, caKey, caCert, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "cairn-node"},
		DNSNames:    []string{"localhost", "cairn-node"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, p.serverCert, p.serverKey)
	issue(t, caKey, caCert, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "cairn-client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, p.clientCert, p.clientKey)
	return p
}

func nextSerial(t *testing.T) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	require.NoError(t, err)
	return n
}

func newCA(t *testing.T, name string) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return key, cert
}

func issue(t *testing.T, caKey *ecdsa.PrivateKey, ca, tmpl *x509.Certificate, certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl.SerialNumber = nextSerial(t)
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	writePEM(t, filepath.Dir(certPath), filepath.Base(certPath), "CERTIFICATE", der)
	writePEM(t, filepath.Dir(keyPath), filepath.Base(keyPath), "EC PRIVATE KEY", keyDER)
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

func checkHealth(t *testing.T, addr string, cfg DialConfig) error {
	t.Helper()
	conn := dialTest(t, addr, cfg)
	_, err := healthpb.NewHealthClient(conn).Check(rpcContext(t), &healthpb.HealthCheckRequest{})
	return err
}

func TestTLSServer(t *testing.T) {
	pki := newTestPKI(t)
	cfg := testConfig()
	cfg.TLS = TLSFiles{CertFile: pki.serverCert, KeyFile: pki.serverKey}
	r := startServer(t, cfg, nil)

	require.NoError(t, checkHealth(t, r.GRPCAddr(), DialConfig{TLS: TLSFiles{CAFile: pki.caFile}}))
	require.NoError(t, checkHealth(t, r.GRPCAddr(), DialConfig{TLS: TLSFiles{CAFile: pki.caFile}, ServerName: "cairn-node"}))

	err := checkHealth(t, r.GRPCAddr(), DialConfig{TLS: TLSFiles{CAFile: pki.otherCA}})
	require.Equal(t, codes.Unavailable, status.Code(err), "untrusted server certificate: %v", err)
	err = checkHealth(t, r.GRPCAddr(), DialConfig{TLS: TLSFiles{CAFile: pki.caFile}, ServerName: "wrong-name"})
	require.Equal(t, codes.Unavailable, status.Code(err), "name mismatch: %v", err)
	err = checkHealth(t, r.GRPCAddr(), DialConfig{})
	require.Equal(t, codes.Unavailable, status.Code(err), "plaintext client against TLS server: %v", err)
}

func TestMutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	cfg := testConfig()
	cfg.TLS = TLSFiles{CertFile: pki.serverCert, KeyFile: pki.serverKey, CAFile: pki.caFile}
	r := startServer(t, cfg, nil)

	withCert := DialConfig{TLS: TLSFiles{CertFile: pki.clientCert, KeyFile: pki.clientKey, CAFile: pki.caFile}}
	require.NoError(t, checkHealth(t, r.GRPCAddr(), withCert))

	err := checkHealth(t, r.GRPCAddr(), DialConfig{TLS: TLSFiles{CAFile: pki.caFile}})
	require.Error(t, err, "client without a certificate must be rejected")
	require.Equal(t, codes.Unavailable, status.Code(err), "err = %v", err)

	// A certificate from a CA the server does not trust is rejected too.
	other := newTestPKI(t)
	err = checkHealth(t, r.GRPCAddr(), DialConfig{TLS: TLSFiles{CertFile: other.clientCert, KeyFile: other.clientKey, CAFile: pki.caFile}})
	require.Equal(t, codes.Unavailable, status.Code(err), "err = %v", err)
}

func TestTLSConfigErrors(t *testing.T) {
	pki := newTestPKI(t)
	tests := []struct {
		name    string
		server  bool
		files   TLSFiles
		wantErr string
	}{
		{"server disabled", true, TLSFiles{}, "node: tls is not enabled"},
		{"server ca only", true, TLSFiles{CAFile: pki.caFile}, "node: tls.ca on a server requires tls.cert and tls.key"},
		{"server cert without key", true, TLSFiles{CertFile: pki.serverCert}, "node: tls.cert and tls.key must be set together"},
		{"client key without cert", false, TLSFiles{KeyFile: pki.clientKey}, "node: tls.cert and tls.key must be set together"},
		{"missing cert file", true, TLSFiles{CertFile: "/nonexistent.pem", KeyFile: pki.serverKey}, "node: load tls.cert/tls.key"},
		{"bad ca file", false, TLSFiles{CAFile: pki.serverKey}, "no PEM certificates found"},
		{"missing ca file", false, TLSFiles{CAFile: "/nonexistent.pem"}, "node: read tls.ca"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.server {
				_, err = ServerTLSConfig(tt.files)
			} else {
				_, err = ClientTLSConfig(tt.files, "")
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}

	sc, err := ServerTLSConfig(TLSFiles{CertFile: pki.serverCert, KeyFile: pki.serverKey, CAFile: pki.caFile})
	require.NoError(t, err)
	require.NotNil(t, sc.ClientCAs)
	cc, err := ClientTLSConfig(TLSFiles{}, "x")
	require.NoError(t, err)
	require.Nil(t, cc.RootCAs, "system roots when no CA file is given")
	require.Equal(t, "x", cc.ServerName)
}
