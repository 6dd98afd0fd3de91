package sqlchaos

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/node/pki"
)

// nodeURL is the URL sqlURL gives for node n of a cluster with client TLS
// files ts (nil: plaintext).
func nodeURL(n cluster.NodeState, ts *cluster.TLSState) (string, error) {
	n.Service = "raftkv"
	u := cluster.State{Nodes: []cluster.NodeState{n}, TLS: ts}.NodeSQLURL(n.Name)
	if u == "" {
		return "", fmt.Errorf("no SQL port on %s", n.Name)
	}
	return u, nil
}

func TestNodeURL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	if err := pki.Ensure(dir, []string{"raftkv-1"}); err != nil {
		t.Fatal(err)
	}
	cert, key := pki.ClientFiles(dir)
	ts := &cluster.TLSState{CAFile: pki.CAFile(dir), CertFile: cert, KeyFile: key}
	for _, tc := range []struct {
		name string
		tls  *cluster.TLSState
	}{{"mutual TLS", ts}, {"plaintext", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := nodeURL(cluster.NodeState{Name: "raftkv-1", GRPCAddr: "127.0.0.1:10000", Ports: map[string]string{"sql": "127.0.0.1:10020"}}, tc.tls)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := pgx.ParseConfig(u)
			if err != nil {
				t.Fatalf("pgx.ParseConfig(%s): %v", u, err)
			}
			if cfg.Host != "127.0.0.1" || cfg.Port != 10020 || cfg.User != cluster.SQLUser || cfg.Database != SQLDatabase {
				t.Fatalf("%s: host %s port %d user %s database %s", u, cfg.Host, cfg.Port, cfg.User, cfg.Database)
			}
			if tc.tls == nil {
				if cfg.TLSConfig != nil {
					t.Fatalf("%s: TLS on a plaintext cluster", u)
				}
				return
			}
			if c := cfg.TLSConfig; c == nil || c.ServerName != "127.0.0.1" || c.RootCAs == nil {
				t.Fatalf("%s: TLS config %+v, want the CA and server name 127.0.0.1", u, c)
			}
			if len(cfg.Fallbacks) != 0 {
				t.Fatalf("%s: %d fallbacks, want none (no plaintext retry)", u, len(cfg.Fallbacks))
			}
		})
	}
	if _, err := nodeURL(cluster.NodeState{Name: "x", GRPCAddr: "127.0.0.1:1"}, nil); err == nil {
		t.Error("a node without a sql port has a URL")
	}
}

// TestNodeURLHandshake connects with a URL from nodeURL to a server that
// answers PostgreSQL's SSLRequest and requires a client certificate signed
// by the cluster CA, as pgwire does: the handshake must present the
// cluster's client certificate and verify the node's.
func TestNodeURLHandshake(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	if err := pki.Ensure(dir, []string{"raftkv-1"}); err != nil {
		t.Fatal(err)
	}
	nodeCert, nodeKey := pki.NodeFiles(dir, "raftkv-1")
	srvCert, err := tls.LoadX509KeyPair(nodeCert, nodeKey)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(pki.CAFile(dir))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	peer := make(chan string, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			peer <- "accept: " + err.Error()
			return
		}
		defer conn.Close()
		req := make([]byte, 8) // length 8, code 80877103
		if _, err := io.ReadFull(conn, req); err != nil || binary.BigEndian.Uint32(req[4:]) != 80877103 {
			peer <- fmt.Sprintf("no SSLRequest: %x %v", req, err)
			return
		}
		if _, err := conn.Write([]byte{'S'}); err != nil {
			peer <- err.Error()
			return
		}
		tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})
		if err := tc.Handshake(); err != nil {
			peer <- "handshake: " + err.Error()
			return
		}
		peer <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
	}()
	cert, key := pki.ClientFiles(dir)
	ts := &cluster.TLSState{CAFile: pki.CAFile(dir), CertFile: cert, KeyFile: key}
	u, err := nodeURL(cluster.NodeState{Name: "raftkv-1", Ports: map[string]string{"sql": l.Addr().String()}}, ts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if conn, err := connect(ctx, u); err == nil {
		conn.Close(ctx)
		t.Fatal("connect succeeded against a server that never answers the startup")
	}
	if got := <-peer; got != pki.ClientName {
		t.Fatalf("server saw %q, want the client certificate %q", got, pki.ClientName)
	}
}
