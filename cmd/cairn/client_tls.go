package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/node"
)

// Environment variables of the client TLS flags; `cairn cluster env` prints
// them for the local cluster.
const (
	envTLSCA   = "CAIRN_TLS_CA"
	envTLSCert = "CAIRN_TLS_CERT"
	envTLSKey  = "CAIRN_TLS_KEY"
)

// clientTLSFlags are the TLS flags of every client command group (kv, lock,
// sem, election, cache, bench).
type clientTLSFlags struct {
	ca, cert, key string
	insecure      bool
}

// addClientTLSFlags registers --tls-ca, --tls-cert, --tls-key and --insecure
// on fs and returns where they land.
func addClientTLSFlags(fs *pflag.FlagSet) *clientTLSFlags {
	f := &clientTLSFlags{}
	fs.StringVar(&f.ca, "tls-ca", "", "PEM CA the servers' certificates must chain to (default $"+envTLSCA+", else the local cluster's)")
	fs.StringVar(&f.cert, "tls-cert", "", "PEM client certificate for mutual TLS (default $"+envTLSCert+", else the local cluster's)")
	fs.StringVar(&f.key, "tls-key", "", "PEM key of --tls-cert (default $"+envTLSKey+", else the local cluster's)")
	fs.BoolVar(&f.insecure, "insecure", false, "dial in plaintext, without TLS")
	return f
}

// config returns the TLS configuration a client dials with, nil meaning
// plaintext:
//
//  1. --insecure: plaintext;
//  2. --tls-ca/--tls-cert/--tls-key, each defaulting to its $CAIRN_TLS_*
//     variable, when any is set;
//  3. else the cluster state file found through clusterDir (--cluster-dir,
//     $CAIRN_CLUSTER_DIR, ./.cairn): its client certificate, or plaintext
//     for a cluster started with --insecure. This applies to explicit
//     --endpoints too, so they work against the local cluster;
//  4. else (no cluster found) plaintext.
//
// A nil f means no TLS flags: steps 2 (from the environment) to 4.
func (f *clientTLSFlags) config(clusterDir string) (*tls.Config, error) {
	var files node.TLSFiles
	if f != nil {
		if f.insecure {
			if f.ca != "" || f.cert != "" || f.key != "" {
				return nil, errors.New("--insecure cannot be combined with --tls-ca, --tls-cert or --tls-key")
			}
			return nil, nil
		}
		files = node.TLSFiles{CAFile: f.ca, CertFile: f.cert, KeyFile: f.key}
	}
	if files.CAFile == "" {
		files.CAFile = os.Getenv(envTLSCA)
	}
	if files.CertFile == "" {
		files.CertFile = os.Getenv(envTLSCert)
	}
	if files.KeyFile == "" {
		files.KeyFile = os.Getenv(envTLSKey)
	}
	if files.Enabled() {
		tc, err := node.ClientTLSConfig(files, "")
		if err != nil {
			return nil, fmt.Errorf("--tls-ca/--tls-cert/--tls-key: %w", err)
		}
		return tc, nil
	}
	dir, err := cluster.ResolveDir(clusterDir)
	if err != nil {
		return nil, fmt.Errorf("--cluster-dir: %w", err)
	}
	st, err := cluster.LoadState(dir)
	if errors.Is(err, cluster.ErrNoCluster) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return st.ClientTLS()
}

// configFor is config for a cairn target; for another system under test
// (etcd, Redis) only explicit flags and $CAIRN_TLS_* apply, never the local
// cluster's certificates.
func (f *clientTLSFlags) configFor(cairnTarget bool, clusterDir string) (*tls.Config, error) {
	if cairnTarget {
		return f.config(clusterDir)
	}
	files := node.TLSFiles{CAFile: f.ca, CertFile: f.cert, KeyFile: f.key}
	if f.insecure || !files.Enabled() {
		return nil, nil
	}
	return node.ClientTLSConfig(files, "")
}
