package pki

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// File names inside a directory managed by Ensure.
const (
	CAFileName        = "ca.pem"
	CAKeyFileName     = "ca-key.pem"
	ClientFileName    = "client.pem"
	ClientKeyFileName = "client-key.pem"
)

// ClientName is the name in the identity URI of the client certificate
// Ensure makes: spiffe://cairn/client/cli.
const ClientName = "cli"

// LocalHosts are the subject alternative names of every node certificate
// Ensure makes, besides the node's own name: the loopback addresses the
// harness binds.
var LocalHosts = []string{"127.0.0.1", "::1", "localhost"}

// renewMargin is how long before expiry Ensure replaces a certificate.
const renewMargin = 7 * 24 * time.Hour

// CAFile returns the path of the CA certificate in dir.
func CAFile(dir string) string { return filepath.Join(dir, CAFileName) }

// NodeFiles returns the paths of node's certificate and key in dir.
func NodeFiles(dir, node string) (cert, key string) {
	return filepath.Join(dir, node+".pem"), filepath.Join(dir, node+"-key.pem")
}

// ClientFiles returns the paths of the client certificate and key in dir.
func ClientFiles(dir string) (cert, key string) {
	return filepath.Join(dir, ClientFileName), filepath.Join(dir, ClientKeyFileName)
}

// Ensure makes dir hold a CA, a node certificate for every name in nodes
// (with LocalHosts and the name as subject alternative names) and a client
// certificate, creating dir (mode 0700) if needed. It keeps every file that
// is already there and valid: an existing CA is never replaced (a ca-key.pem
// without ca.pem is an error, not a reason to make a new CA), and a leaf is
// issued again only when it is missing, expires within a week, or is not
// signed by the CA. Ensure is not safe for concurrent use on one dir; the
// harness calls it under the cluster directory lock.
func Ensure(dir string, nodes []string) error { return EnsureHosts(dir, nodes, nil) }

// EnsureHosts is Ensure with more subject alternative names for some nodes:
// extra(name) lists them (nil extra, or nil lists, add none). A node
// certificate that lacks one of its names is issued again.
func EnsureHosts(dir string, nodes []string, extra func(name string) []string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	ca, err := loadOrCreateCA(dir)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, name := range nodes {
		cert, key := NodeFiles(dir, name)
		hosts := append(append([]string(nil), LocalHosts...), name)
		if extra != nil {
			hosts = append(hosts, extra(name)...)
		}
		if err := ensureLeaf(ca, RoleNode, name, hosts, cert, key, now); err != nil {
			return err
		}
	}
	cert, key := ClientFiles(dir)
	return ensureLeaf(ca, RoleClient, ClientName, nil, cert, key, now)
}

func loadOrCreateCA(dir string) (*CA, error) {
	certFile, keyFile := CAFile(dir), filepath.Join(dir, CAKeyFileName)
	certPEM, cerr := os.ReadFile(certFile)
	keyPEMBytes, kerr := os.ReadFile(keyFile)
	switch {
	case cerr == nil && kerr == nil:
		ca, err := ParseCA(certPEM, keyPEMBytes)
		if err != nil {
			return nil, fmt.Errorf("pki: %s and %s: %w", certFile, keyFile, err)
		}
		return ca, nil
	case cerr == nil:
		return nil, fmt.Errorf("pki: CA key %s: %w (the CA in %s cannot issue certificates without it)", keyFile, kerr, certFile)
	case !errors.Is(cerr, os.ErrNotExist):
		return nil, fmt.Errorf("pki: %w", cerr)
	case kerr == nil:
		return nil, fmt.Errorf("pki: %s exists without %s; refusing to make a new CA over it", keyFile, certFile)
	case !errors.Is(kerr, os.ErrNotExist):
		return nil, fmt.Errorf("pki: %w", kerr)
	}
	ca, err := NewCA("cairn cluster CA")
	if err != nil {
		return nil, err
	}
	kp, err := ca.KeyPEM()
	if err != nil {
		return nil, err
	}
	// Never overwrite: the key first (a crash after it is reported above), then
	// the certificate.
	if err := writeNew(keyFile, kp, 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(certFile, ca.CertPEM(), 0o644); err != nil {
		return nil, err
	}
	return ca, nil
}

// ensureLeaf keeps certFile and keyFile if they hold a valid certificate of
// ca for role, and issues a new pair otherwise.
func ensureLeaf(ca *CA, role Role, name string, hosts []string, certFile, keyFile string, now time.Time) error {
	usage := x509.ExtKeyUsageClientAuth
	if role == RoleNode {
		usage = x509.ExtKeyUsageServerAuth
	}
	if certPEM, err := os.ReadFile(certFile); err == nil {
		if _, kerr := os.Stat(keyFile); kerr == nil && ca.Verify(certPEM, usage, now, renewMargin) == nil && hasHosts(certPEM, hosts) {
			return nil
		}
	}
	certPEM, kp, err := ca.Issue(role, name, hosts)
	if err != nil {
		return err
	}
	if err := writeReplace(keyFile, kp, 0o600); err != nil {
		return err
	}
	return writeReplace(certFile, certPEM, 0o644)
}

// hasHosts reports whether the certificate in certPEM names every one of
// hosts (IP or DNS subject alternative names).
func hasHosts(certPEM []byte, hosts []string) bool {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return false
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
				return false
			}
		} else if !slices.Contains(cert.DNSNames, h) {
			return false
		}
	}
	return true
}

// writeNew creates path with data; it fails if path exists.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("pki: sync %s: %w", path, err)
	}
	return f.Close()
}

// writeReplace writes data to path atomically (temporary file, rename).
func writeReplace(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	_ = os.Remove(tmp)
	if err := writeNew(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}
