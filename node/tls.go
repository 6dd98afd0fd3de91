package node

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSFiles names the PEM files of one side of a TLS connection.
//
// On a server, CertFile and KeyFile are its certificate and key, and a
// non-empty CAFile makes the server require and verify client certificates
// signed by that CA (mutual TLS). On a client, CAFile holds the roots that
// the server certificate must chain to (system roots when empty), and
// CertFile and KeyFile, when set, are the client certificate presented for
// mutual TLS. The zero value means plaintext.
type TLSFiles struct {
	CertFile string `yaml:"cert" flag:"tls-cert" usage:"PEM certificate file; enables TLS"`
	KeyFile  string `yaml:"key" flag:"tls-key" usage:"PEM private key file for --tls-cert"`
	CAFile   string `yaml:"ca" flag:"tls-ca" usage:"PEM CA bundle: on servers, require client certificates signed by it; on clients, trust roots"`
}

// Enabled reports whether any TLS file is set, that is whether connections
// use TLS rather than plaintext.
func (t TLSFiles) Enabled() bool {
	return t.CertFile != "" || t.KeyFile != "" || t.CAFile != ""
}

// validate checks the files are set consistently; server additionally
// requires a certificate.
func (t TLSFiles) validate(server bool) error {
	if (t.CertFile == "") != (t.KeyFile == "") {
		return errors.New("node: tls.cert and tls.key must be set together")
	}
	if server && t.Enabled() && t.CertFile == "" {
		return errors.New("node: tls.ca on a server requires tls.cert and tls.key")
	}
	return nil
}

// ServerTLSConfig builds the server side TLS configuration from t. It returns
// an error when t is not enabled or a file cannot be read or parsed.
func ServerTLSConfig(t TLSFiles) (*tls.Config, error) {
	if !t.Enabled() {
		return nil, errors.New("node: tls is not enabled")
	}
	if err := t.validate(true); err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("node: load tls.cert/tls.key: %w", err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
	}
	if t.CAFile != "" {
		pool, err := loadCertPool(t.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// ClientTLSConfig builds the client side TLS configuration from t.
// serverName, when non-empty, overrides the name checked against the server
// certificate (by default the host part of the dial target).
func ClientTLSConfig(t TLSFiles, serverName string) (*tls.Config, error) {
	if err := t.validate(false); err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: serverName,
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("node: load tls.cert/tls.key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if t.CAFile != "" {
		pool, err := loadCertPool(t.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

func loadCertPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("node: read tls.ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("node: tls.ca %s: no PEM certificates found", path)
	}
	return pool, nil
}
