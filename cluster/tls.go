package cluster

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"slices"

	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/pki"
)

// TLSDirName is the directory, inside the cluster directory, that holds the
// cluster's CA and certificates (see package node/pki for the file names):
//
//	tls/ca.pem, tls/ca-key.pem        the CA, made once and never replaced
//	tls/<node>.pem, tls/<node>-key.pem  each node's certificate (spiffe://cairn/node/<node>)
//	tls/client.pem, tls/client-key.pem  the client certificate (spiffe://cairn/client/cli)
const TLSDirName = "tls"

// TLSState records how clients reach the nodes of a cluster running mutual
// TLS: the CA to trust and the client certificate to present, as absolute
// paths. A State without one (Options.Insecure, or a state file written
// before TLS) means plaintext.
type TLSState struct {
	CAFile   string `json:"ca_file"`
	CertFile string `json:"cert_file"`
	KeyFile  string `json:"key_file"`
}

// Files returns the client side TLS files, for node.Dial and friends.
func (t TLSState) Files() node.TLSFiles {
	return node.TLSFiles{CertFile: t.CertFile, KeyFile: t.KeyFile, CAFile: t.CAFile}
}

// newTLSState returns the TLSState of the certificates in dir/TLSDirName.
func newTLSState(dir string) *TLSState {
	tdir := filepath.Join(dir, TLSDirName)
	cert, key := pki.ClientFiles(tdir)
	return &TLSState{CAFile: pki.CAFile(tdir), CertFile: cert, KeyFile: key}
}

// ClientTLS returns the TLS configuration a client of the cluster dials
// with: the cluster's CA and the client certificate. It returns nil (and no
// error) for a plaintext cluster. The server name is left empty: each
// connection verifies the host it dials, and node certificates name
// 127.0.0.1, ::1, localhost and the node.
func (s State) ClientTLS() (*tls.Config, error) {
	if s.TLS == nil {
		return nil, nil
	}
	tc, err := node.ClientTLSConfig(s.TLS.Files(), "")
	if err != nil {
		return nil, fmt.Errorf("cluster: client tls of %s: %w", s.Dir, err)
	}
	return tc, nil
}

// ClientTLS is State().ClientTLS() of the cluster as this handle last read it.
func (c *Cluster) ClientTLS() (*tls.Config, error) { return c.State().ClientTLS() }

// tlsArgs returns the command line options that make node serve, and dial its
// peers, with mutual TLS from the certificates in dir/TLSDirName, or
// --insecure when insecure.
func tlsArgs(dir, nodeName string, insecure bool) []string {
	if insecure {
		return []string{"--insecure"}
	}
	tdir := filepath.Join(dir, TLSDirName)
	cert, key := pki.NodeFiles(tdir, nodeName)
	return []string{"--tls-cert", cert, "--tls-key", key, "--tls-ca", pki.CAFile(tdir)}
}

// ensureCerts makes or reuses the cluster's CA and certificates for nodes.
// The caller holds the directory lock.
func ensureCerts(dir string, nodes []NodeState) error {
	names := make([]string, len(nodes))
	extra := map[string][]string{}
	for i, n := range nodes {
		names[i] = n.Name
		if svc, ok := LookupService(n.Service); ok {
			extra[n.Name] = append(extra[n.Name], svc.CertNames...)
		}
		for _, addr := range n.Ports {
			if host, _, err := net.SplitHostPort(addr); err == nil && host != "127.0.0.1" && !slices.Contains(extra[n.Name], host) {
				extra[n.Name] = append(extra[n.Name], host)
			}
		}
	}
	if err := pki.EnsureHosts(filepath.Join(dir, TLSDirName), names, func(name string) []string { return extra[name] }); err != nil {
		return fmt.Errorf("cluster: certificates: %w", err)
	}
	return nil
}

// ensureTokenKey makes or reuses the cluster's token signing key
// (dir/TLSDirName/token-key.pem), which gatewayd nodes sign and verify the
// tokens of `cairn gateway token` with. It exists on plaintext clusters too.
func ensureTokenKey(dir string) error {
	if _, err := pki.EnsureTokenKey(filepath.Join(dir, TLSDirName)); err != nil {
		return fmt.Errorf("cluster: token key: %w", err)
	}
	return nil
}
