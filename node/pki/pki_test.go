package pki

import (
	"bytes"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEnsureMakesCertificatesWithRoles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	require.NoError(t, Ensure(dir, []string{"raftkv-1", "lockd-2"}))

	caPEM, err := os.ReadFile(CAFile(dir))
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(caPEM))

	certFile, keyFile := NodeFiles(dir, "raftkv-1")
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}})
		require.NoError(t, err, "node certificate for usage %v", usage)
	}
	require.NoError(t, leaf.VerifyHostname("127.0.0.1"))
	require.NoError(t, leaf.VerifyHostname("localhost"))
	require.NoError(t, leaf.VerifyHostname("raftkv-1"))
	require.True(t, leaf.IPAddresses[1].Equal(net.IPv6loopback))
	role, name, ok := Identity(leaf)
	require.True(t, ok)
	require.Equal(t, RoleNode, role)
	require.Equal(t, "raftkv-1", name)
	require.True(t, IsNode(leaf))
	require.Equal(t, "spiffe://cairn/node/raftkv-1", leaf.URIs[0].String())

	certFile, keyFile = ClientFiles(dir)
	pair, err = tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	client, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	_, err = client.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.NoError(t, err)
	_, err = client.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	require.Error(t, err, "a client certificate must not serve")
	require.False(t, IsNode(client))
	role, name, ok = Identity(client)
	require.True(t, ok)
	require.Equal(t, RoleClient, role)
	require.Equal(t, ClientName, name)

	for _, f := range []string{filepath.Join(dir, CAKeyFileName), keyFile} {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}
}

func TestEnsureReusesAndNeverReplacesTheCA(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Ensure(dir, []string{"n1"}))
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return b
	}
	ca, n1, client := read(CAFileName), read("n1.pem"), read(ClientFileName)

	// Again, with one more node: everything kept, the new node issued.
	require.NoError(t, Ensure(dir, []string{"n1", "n2"}))
	require.Equal(t, ca, read(CAFileName))
	require.Equal(t, n1, read("n1.pem"))
	require.Equal(t, client, read(ClientFileName))
	n2 := read("n2.pem")
	caCert, err := ParseCertificate(ca)
	require.NoError(t, err)
	leaf, err := ParseCertificate(n2)
	require.NoError(t, err)
	require.NoError(t, leaf.CheckSignatureFrom(caCert))

	// A leaf signed by some other CA is replaced by one of this CA.
	other, err := NewCA("other")
	require.NoError(t, err)
	foreign, foreignKey, err := other.Issue(RoleNode, "n1", nil)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "n1.pem"), foreign, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "n1-key.pem"), foreignKey, 0o600))
	require.NoError(t, Ensure(dir, []string{"n1"}))
	reissued := read("n1.pem")
	require.False(t, bytes.Equal(foreign, reissued))
	leaf, err = ParseCertificate(reissued)
	require.NoError(t, err)
	require.NoError(t, leaf.CheckSignatureFrom(caCert))

	// Without its key the CA is not replaced: Ensure fails when it must issue.
	require.NoError(t, os.Remove(filepath.Join(dir, CAKeyFileName)))
	require.ErrorContains(t, Ensure(dir, []string{"n3"}), CAKeyFileName)
	require.Equal(t, ca, read(CAFileName))

	// A CA key without its certificate is not replaced either.
	dir2 := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir2, CAKeyFileName), []byte("key"), 0o600))
	require.ErrorContains(t, Ensure(dir2, nil), "refusing")
	_, err = os.Stat(filepath.Join(dir2, CAFileName))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestIdentity(t *testing.T) {
	ca, err := NewCA("test")
	require.NoError(t, err)
	parse := func(role Role, name string) *x509.Certificate {
		c, _, err := ca.Issue(role, name, nil)
		require.NoError(t, err)
		cert, err := ParseCertificate(c)
		require.NoError(t, err)
		return cert
	}
	require.True(t, IsNode(parse(RoleNode, "cached-3")))
	require.False(t, IsNode(parse(RoleClient, "cli")))
	_, _, err = ca.Issue(Role("admin"), "x", nil)
	require.Error(t, err)
	_, _, err = ca.Issue(RoleNode, "a/b", nil)
	require.Error(t, err)

	for _, tc := range []struct {
		uris []string
		ok   bool
	}{
		{[]string{"spiffe://cairn/node/x"}, true},
		{[]string{"spiffe://other/node/x"}, false},
		{[]string{"spiffe://cairn/node/"}, false},
		{[]string{"spiffe://cairn/node/x/y"}, false},
		{[]string{"https://cairn/node/x"}, false},
		{[]string{"spiffe://cairn/node/x", "spiffe://cairn/client/y"}, false},
		{nil, false},
	} {
		cert := &x509.Certificate{}
		for _, u := range tc.uris {
			cert.URIs = append(cert.URIs, mustURL(t, u))
		}
		_, _, ok := Identity(cert)
		require.Equal(t, tc.ok, ok, "%v", tc.uris)
	}
}

func TestVerifyRejectsExpiringSoon(t *testing.T) {
	ca, err := NewCA("test")
	require.NoError(t, err)
	c, _, err := ca.Issue(RoleClient, "cli", nil)
	require.NoError(t, err)
	require.NoError(t, ca.Verify(c, x509.ExtKeyUsageClientAuth, time.Now(), renewMargin))
	require.Error(t, ca.Verify(c, x509.ExtKeyUsageClientAuth, time.Now().Add(LeafValidity), renewMargin))
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

func TestEnsureTokenKey(t *testing.T) {
	dir := t.TempDir()
	path, err := EnsureTokenKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := parseKey(first)
	if err != nil {
		t.Fatalf("token key does not parse: %v", err)
	}
	if _, ok := key.(ed25519.PrivateKey); !ok {
		t.Fatalf("token key is %T, want ed25519", key)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("token key mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := EnsureTokenKey(dir); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(path)
	if string(again) != string(first) {
		t.Error("EnsureTokenKey replaced an existing key")
	}
}

// Extra hosts become subject alternative names, and a certificate that
// lacks one is issued again.
func TestEnsureHostsAddsNames(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Ensure(dir, []string{"edge-1"}))
	extra := func(name string) []string {
		if name == "edge-1" {
			return []string{"127.0.1.1", "cdn.cairn.test"}
		}
		return nil
	}
	require.NoError(t, EnsureHosts(dir, []string{"edge-1"}, extra))
	certFile, _ := NodeFiles(dir, "edge-1")
	pemBytes, err := os.ReadFile(certFile)
	require.NoError(t, err)
	block, _ := pem.Decode(pemBytes)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	require.NoError(t, cert.VerifyHostname("127.0.1.1"))
	require.NoError(t, cert.VerifyHostname("cdn.cairn.test"))
	require.NoError(t, cert.VerifyHostname("127.0.0.1"))
}
