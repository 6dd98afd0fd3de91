package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"strings"
	"time"
)

// Role says what a certificate's holder is.
type Role string

// The roles of cairn certificates.
const (
	// RoleNode is a daemon node: it serves, and it dials other nodes.
	RoleNode Role = "node"
	// RoleClient is a client: the CLI, a Go client, an outside tool.
	RoleClient Role = "client"
)

// TrustDomain is the host part of every identity URI.
const TrustDomain = "cairn"

// Validity periods of what NewCA and Issue make.
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	LeafValidity = 2 * 365 * 24 * time.Hour
)

// IdentityURI returns spiffe://cairn/<role>/<name>.
func IdentityURI(role Role, name string) *url.URL {
	return &url.URL{Scheme: "spiffe", Host: TrustDomain, Path: "/" + string(role) + "/" + name}
}

// Identity returns the role and name in cert's cairn identity URI, and false
// when cert carries none (or more than one). It does not verify cert: call it
// on a certificate already verified against the cluster's CA.
func Identity(cert *x509.Certificate) (Role, string, bool) {
	var role Role
	var name string
	found := 0
	for _, u := range cert.URIs {
		if u.Scheme != "spiffe" || u.Host != TrustDomain {
			continue
		}
		r, n, ok := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
		if !ok || n == "" || strings.Contains(n, "/") {
			continue
		}
		role, name = Role(r), n
		found++
	}
	if found != 1 {
		return "", "", false
	}
	return role, name, true
}

// IsNode reports whether cert carries a node identity URI. Like Identity it
// trusts cert: call it on a verified certificate.
func IsNode(cert *x509.Certificate) bool {
	role, _, ok := Identity(cert)
	return ok && role == RoleNode
}

// CA is a certificate authority that issues cairn certificates. It is safe
// for concurrent use.
type CA struct {
	Cert *x509.Certificate
	key  crypto.Signer
}

// NewCA makes a self-signed CA named commonName with a new ECDSA P-256 key,
// valid for CAValidity.
func NewCA(commonName string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"cairn"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("pki: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, key: key}, nil
}

// ParseCA reads a CA from its PEM certificate and PEM private key (PKCS#8 or
// SEC 1). It fails when the key does not match the certificate or the
// certificate is not a CA.
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, errors.New("pki: certificate is not a CA")
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("pki: CA key does not match the CA certificate")
	}
	return &CA{Cert: cert, key: key}, nil
}

// CertPEM returns the CA certificate in PEM.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// KeyPEM returns the CA private key in PEM (PKCS#8).
func (ca *CA) KeyPEM() ([]byte, error) { return keyPEM(ca.key) }

// Issue makes a certificate for name in role, with a new ECDSA P-256 key,
// valid for LeafValidity (never past the CA). hosts are added as IP or DNS
// subject alternative names. A node certificate serves and dials (server
// and client auth); a client certificate only dials. It returns the
// certificate and key in PEM.
func (ca *CA) Issue(role Role, name string, hosts []string) (certPEM, keyPEMBytes []byte, err error) {
	if name == "" || strings.Contains(name, "/") {
		return nil, nil, fmt.Errorf("pki: bad certificate name %q", name)
	}
	usage := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	switch role {
	case RoleNode:
		usage = append(usage, x509.ExtKeyUsageServerAuth)
	case RoleClient:
	default:
		return nil, nil, fmt.Errorf("pki: unknown role %q", role)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generate key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	notAfter := now.Add(LeafValidity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"cairn"}, OrganizationalUnit: []string{string(role)}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usage,
		URIs:         []*url.URL{IdentityURI(role, name)},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: issue %s certificate %s: %w", role, name, err)
	}
	kp, err := keyPEM(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), kp, nil
}

// Verify reports whether certPEM's first certificate is signed by ca, valid
// at now and at least until now+margin, for usage.
func (ca *CA) Verify(certPEM []byte, usage x509.ExtKeyUsage, now time.Time, margin time.Duration) error {
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return err
	}
	if now.Add(margin).After(cert.NotAfter) {
		return fmt.Errorf("pki: certificate %s expires at %s", cert.Subject.CommonName, cert.NotAfter.Format(time.RFC3339))
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	_, err = cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

// ParseCertificate returns the first certificate in PEM data.
func ParseCertificate(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("pki: no PEM certificate found")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

func parseKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("pki: no PEM private key found")
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("pki: parse private key: %w", err)
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("pki: private key of type %T cannot sign", k)
			}
			return s, nil
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("pki: parse private key: %w", err)
			}
			return k, nil
		}
	}
}

func keyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func newSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("pki: serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}
